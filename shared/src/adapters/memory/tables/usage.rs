//! Usage counters and budgets in memory, keyed as the DynamoDB adapter
//! keys its items: a day per assistant (and the documents'), a month per
//! assistant and per workspace, a budget per scope.

use crate::domain::ids::{AssistantId, WorkspaceId};
use crate::domain::usage::{Allowance, Budget, Charge, Counted, Day, Month, Scope, Spend};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Default)]
pub(in crate::adapters::memory) struct UsageTables {
    pub(in crate::adapters::memory) budgets: HashMap<(WorkspaceId, Scope), Budget>,
    pub(in crate::adapters::memory) days:
        BTreeMap<(WorkspaceId, Day, Option<AssistantId>), Counted>,
    pub(in crate::adapters::memory) months: HashMap<(WorkspaceId, Month, Scope), Spend>,
}

impl UsageTables {
    /// Adds `charge` to its day and to its month's spends.
    pub(in crate::adapters::memory) fn count(&mut self, charge: &Charge) {
        let ws = &charge.workspace_id;
        let mut this_charge = Counted::default();
        this_charge.add(charge);
        // As on DynamoDB, where a charge of nothing writes no day item.
        if !this_charge.is_nothing() {
            self.days
                .entry((ws.clone(), Day::of(charge.at), charge.assistant_id.clone()))
                .or_default()
                .absorb(&this_charge);
        }
        let month = Month::of(charge.at);
        let mut scopes = vec![Scope::Workspace];
        scopes.extend(charge.assistant_id.clone().map(Scope::Assistant));
        for scope in scopes {
            let spend = self.months.entry((ws.clone(), month, scope)).or_default();
            spend.tokens += charge.tokens();
            spend.sms_segments += charge.segments_in + charge.segments_out;
        }
    }

    pub(in crate::adapters::memory) fn budget(&self, ws: &WorkspaceId, scope: &Scope) -> Budget {
        self.budgets
            .get(&(ws.clone(), scope.clone()))
            .cloned()
            .unwrap_or_default()
    }

    pub(in crate::adapters::memory) fn spend(
        &self,
        ws: &WorkspaceId,
        scope: &Scope,
        month: Month,
    ) -> Spend {
        self.months
            .get(&(ws.clone(), month, scope.clone()))
            .cloned()
            .unwrap_or_default()
    }

    pub(in crate::adapters::memory) fn allowance(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        month: Month,
    ) -> Allowance {
        let mine = Scope::Assistant(assistant.clone());
        Allowance {
            workspace_id: ws.clone(),
            assistant_id: assistant.clone(),
            month,
            assistant: self.budget(ws, &mine),
            assistant_spend: self.spend(ws, &mine, month),
            workspace: self.budget(ws, &Scope::Workspace),
            workspace_spend: self.spend(ws, &Scope::Workspace, month),
        }
    }
}
