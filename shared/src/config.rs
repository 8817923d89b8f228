//! Configuration read from the environment into each function's own typed
//! `Config` when the process starts. A missing or malformed setting stops
//! the function there, naming the variable, rather than failing a request
//! later; the provider settings that hold keys from Secrets Manager are read
//! when a request first needs them (see `wiring`, which builds the adapters
//! from these settings).

use secrecy::SecretString;
use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the environment variable {0} must be set")]
    Missing(&'static str),
    #[error("the environment variable {name} {problem}")]
    Malformed { name: &'static str, problem: String },
}

/// The variables a function reads: the process environment in Lambda, a
/// map in tests. Some hold keys, so `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env").field("names", &names).finish()
    }
}

impl Env {
    pub fn process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// The same variables, with `values` set over them (the provider keys,
    /// read from the secret store when a request first needs them).
    pub fn overlaid(mut self, values: impl IntoIterator<Item = (String, String)>) -> Self {
        self.vars.extend(values);
        self
    }

    /// A setting that may be absent.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.value(name).map(str::to_owned)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.value(name)
            .map(str::to_owned)
            .ok_or(ConfigError::Missing(name))
    }

    /// A key or token: never printed, not even in the error.
    pub fn secret(&self, name: &'static str) -> Result<SecretString, ConfigError> {
        self.required(name).map(SecretString::from)
    }

    /// An `http://` or `https://` URL.
    pub fn url(&self, name: &'static str) -> Result<String, ConfigError> {
        let url = self.required(name)?;
        if url.starts_with("https://") || url.starts_with("http://") {
            Ok(url.trim_end_matches('/').to_owned())
        } else {
            Err(ConfigError::Malformed {
                name,
                problem: "must be an http:// or https:// URL".into(),
            })
        }
    }

    /// A URL, or `None` when the variable is unset.
    pub fn optional_url(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        match self.value(name) {
            None => Ok(None),
            Some(_) => self.url(name).map(Some),
        }
    }

    /// A number, or `None` when the variable is unset.
    pub fn optional_number<T: FromStr>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>, ConfigError> {
        self.value(name)
            .map(|raw| {
                raw.parse().map_err(|_| ConfigError::Malformed {
                    name,
                    problem: "must be a whole number".into(),
                })
            })
            .transpose()
    }
}

/// `SMS_BURST_WINDOW_MS`: texts from one texter within this many
/// milliseconds of each other are answered as one question (0 answers each
/// alone; at most 60 s, so a job's delay stays far inside SQS's 15
/// minutes). The webhook delays each reply job by it and the reply worker
/// merges by it, so both read the same variable.
pub fn sms_burst_window(env: &Env) -> Result<std::time::Duration, ConfigError> {
    const NAME: &str = "SMS_BURST_WINDOW_MS";
    const MAX_MS: u64 = 60_000;
    match env.optional_number::<u64>(NAME)? {
        None => Ok(crate::domain::sms::DEFAULT_BURST_WINDOW),
        Some(ms) if ms <= MAX_MS => Ok(std::time::Duration::from_millis(ms)),
        Some(_) => Err(ConfigError::Malformed {
            name: NAME,
            problem: format!("must be at most {MAX_MS} milliseconds"),
        }),
    }
}

/// The embeddings API and the vector index: base URL, key, model (and
/// optional dimensions) of an OpenAI-compatible API, and the Pinecone index
/// host and key. Keys are secrets: they come from the deployment's secret
/// store, never from the template.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub embeddings_base_url: String,
    pub embeddings_api_key: SecretString,
    pub embeddings_model: String,
    pub embeddings_dimensions: Option<u32>,
    pub pinecone_index_host: String,
    pub pinecone_api_key: SecretString,
}

impl ProviderSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            embeddings_base_url: env.url("EMBEDDINGS_BASE_URL")?,
            embeddings_api_key: env.secret("EMBEDDINGS_API_KEY")?,
            embeddings_model: env.required("EMBEDDINGS_MODEL")?,
            embeddings_dimensions: env.optional_number("EMBEDDINGS_DIMENSIONS")?,
            pinecone_index_host: env.url("PINECONE_INDEX_HOST")?,
            pinecone_api_key: env.secret("PINECONE_API_KEY")?,
        })
    }
}

/// The chat models: a default OpenAI-compatible API for every model, and
/// optionally (`CHAT_ROUTES`, a JSON array of `{"prefix", "baseUrl",
/// "apiKey"}`, kept in the secret store since it holds keys) other APIs for
/// model ids with a given prefix.
#[derive(Clone, Debug)]
pub struct ChatSettings {
    pub base_url: String,
    pub api_key: SecretString,
    pub routes: Vec<ChatRoute>,
}

#[derive(Clone, Debug)]
pub struct ChatRoute {
    pub prefix: String,
    pub base_url: String,
    pub api_key: SecretString,
}

impl ChatSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Raw {
            prefix: String,
            base_url: String,
            api_key: String,
        }
        let malformed = |problem: &str| ConfigError::Malformed {
            name: "CHAT_ROUTES",
            problem: problem.into(),
        };
        let routes = match env.value("CHAT_ROUTES") {
            None => Vec::new(),
            // Never echo the value: it holds keys.
            Some(raw) => serde_json::from_str::<Vec<Raw>>(raw)
                .map_err(|_| malformed("must be a JSON array of {prefix, baseUrl, apiKey}"))?
                .into_iter()
                .map(|r| {
                    if r.prefix.is_empty() {
                        return Err(malformed("a route's prefix is empty"));
                    }
                    if !(r.base_url.starts_with("https://") || r.base_url.starts_with("http://")) {
                        return Err(malformed("a route's baseUrl is not an http(s) URL"));
                    }
                    Ok(ChatRoute {
                        prefix: r.prefix,
                        base_url: r.base_url.trim_end_matches('/').to_owned(),
                        api_key: SecretString::from(r.api_key),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            base_url: env.url("CHAT_BASE_URL")?,
            api_key: env.secret("CHAT_API_KEY")?,
            routes,
        })
    }
}

impl From<ConfigError> for crate::ports::ProviderError {
    fn from(error: ConfigError) -> Self {
        Self::Unconfigured {
            detail: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers(pairs: &[(&str, &str)]) -> Result<ProviderSettings, ConfigError> {
        let mut all = vec![
            ("EMBEDDINGS_BASE_URL", "https://api.example.com/v1"),
            ("EMBEDDINGS_API_KEY", "sk-test"),
            ("EMBEDDINGS_MODEL", "text-embedding-3-small"),
            ("PINECONE_INDEX_HOST", "https://idx.example.io"),
            ("PINECONE_API_KEY", "pc-test"),
        ];
        all.extend_from_slice(pairs);
        ProviderSettings::from_env(&Env::from_pairs(all))
    }

    #[test]
    fn chat_routes_parse_and_a_bad_one_is_named_without_its_keys() {
        let base = [
            ("CHAT_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("CHAT_API_KEY", "local"),
        ];
        let none = ChatSettings::from_env(&Env::from_pairs(base)).unwrap();
        assert!(none.routes.is_empty());
        let routes = r#"[{"prefix": "gpt-", "baseUrl": "https://api.openai.com/v1/", "apiKey": "sk-secret"}]"#;
        let mut pairs = base.to_vec();
        pairs.push(("CHAT_ROUTES", routes));
        let some = ChatSettings::from_env(&Env::from_pairs(pairs)).unwrap();
        assert_eq!(some.routes[0].base_url, "https://api.openai.com/v1");
        assert!(!format!("{some:?}").contains("sk-secret"));
        let bad = r#"[{"prefix": "gpt-", "baseUrl": "api.openai.com", "apiKey": "sk-secret"}]"#;
        let mut pairs = base.to_vec();
        pairs.push(("CHAT_ROUTES", bad));
        let error = ChatSettings::from_env(&Env::from_pairs(pairs)).unwrap_err();
        assert!(error.to_string().contains("CHAT_ROUTES"));
        assert!(!error.to_string().contains("sk-secret"));
    }

    #[test]
    fn a_missing_setting_is_named() {
        let env = Env::from_pairs([("TABLE_NAME", "  ")]);
        assert_eq!(
            env.required("TABLE_NAME"),
            Err(ConfigError::Missing("TABLE_NAME"))
        );
        assert_eq!(
            ConfigError::Missing("TABLE_NAME").to_string(),
            "the environment variable TABLE_NAME must be set"
        );
    }

    #[test]
    fn malformed_provider_settings_are_named_and_never_echo_a_key() {
        let dimensions = providers(&[("EMBEDDINGS_DIMENSIONS", "many")]).unwrap_err();
        assert!(dimensions.to_string().contains("EMBEDDINGS_DIMENSIONS"));
        let host = providers(&[("PINECONE_INDEX_HOST", "idx.example.io")]).unwrap_err();
        assert!(host.to_string().contains("PINECONE_INDEX_HOST"));
        let settings = providers(&[("EMBEDDINGS_DIMENSIONS", "256")]).unwrap();
        assert_eq!(settings.embeddings_dimensions, Some(256));
        assert!(!format!("{settings:?}").contains("sk-test"));
    }
}
