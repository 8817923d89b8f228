//! The one HTTP client every provider adapter (embeddings, Pinecone, the
//! chat model, Twilio) is built on: it never follows a redirect, since
//! reqwest would replay the request's key (`Api-Key`, `Authorization`) to
//! wherever a `Location` points. A provider that answers 3xx is refused,
//! like any other answer we did not ask for.

/// A client that keeps every request where it was sent.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with no custom TLS or proxy settings always builds")
}
