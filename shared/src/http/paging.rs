//! Offset paging: `limit` (default 25, clamped to 100) and `offset`
//! (default 0); anything else in them is a 400 naming the parameter.

use super::error::ApiError;
use crate::domain::fields::FieldErrors;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Serialize;
use std::collections::HashMap;

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;
/// The largest `limit` or `offset` taken (a `limit` above `MAX_LIMIT` is
/// read as `MAX_LIMIT`): one bound every client's integers can hold, and
/// the `maximum` the API document states.
pub const MAX_NUMBER: usize = i32::MAX as usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub limit: usize,
    pub offset: usize,
}

/// The list envelope of every paged route.
#[derive(Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
}

impl<T> Page<T> {
    /// The same page with each item turned into its view.
    pub fn map<U>(self, view: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(view).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

impl Paging {
    pub fn parse(query: &HashMap<String, String>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut read = |name: &str, default: usize| match query.get(name) {
            None => default,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n <= MAX_NUMBER => n,
                _ => {
                    errors.add(
                        name,
                        format!("must be a whole number from 0 to {MAX_NUMBER}"),
                    );
                    default
                }
            },
        };
        let limit = read("limit", DEFAULT_LIMIT);
        let offset = read("offset", 0);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            limit: limit.clamp(1, MAX_LIMIT),
            offset,
        })
    }

    /// One page of an already ordered, already filtered list.
    pub fn page<T>(self, items: Vec<T>) -> Page<T> {
        let total = items.len();
        let data = items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        Page {
            data,
            total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("the query string is malformed"))?;
        Paging::parse(&query).map_err(ApiError::invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Paging, FieldErrors> {
        Paging::parse(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn paging_defaults_to_25_from_the_start() {
        assert_eq!(
            parse(&[]).unwrap(),
            Paging {
                limit: 25,
                offset: 0
            }
        );
    }

    #[test]
    fn a_limit_above_100_is_clamped_not_refused() {
        assert_eq!(parse(&[("limit", "500")]).unwrap().limit, 100);
    }

    #[test]
    fn paging_numbers_past_the_documented_maximum_are_refused_by_name() {
        assert_eq!(
            parse(&[("offset", "2147483647")]).unwrap().offset,
            2_147_483_647
        );
        let errors = parse(&[("limit", "2147483648"), ("offset", "18446744073709551999")])
            .unwrap_err()
            .into_map();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn negative_or_non_numeric_paging_is_refused_by_name() {
        let errors = parse(&[("limit", "-1"), ("offset", "abc")])
            .unwrap_err()
            .into_map();
        assert!(errors.contains_key("limit"));
        assert!(errors.contains_key("offset"));
    }

    #[test]
    fn a_page_reports_the_total_and_slices_by_offset() {
        let page = parse(&[("limit", "2"), ("offset", "3")])
            .unwrap()
            .page((0..6).collect());
        assert_eq!(page.data, vec![3, 4]);
        assert_eq!(page.total, 6);
    }
}
