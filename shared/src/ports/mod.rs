//! What the application needs from the outside world, in its own words. The
//! adapters implement these against real services; handlers and workers see
//! only the traits.

pub mod blobs;
pub mod clock;
pub mod providers;
pub mod queue;
pub mod search;
pub mod store;

pub use blobs::{BlobError, BlobStore, PresignedUpload};
pub use clock::{Clock, SystemClock};
pub use providers::{Embedder, ProviderError, VectorIndex, VectorMatch, VectorRecord};
pub use queue::{JobQueue, QueueError};
pub use search::PassageSearch;
pub use store::{
    AssistantStore, CascadeStore, ConnectionStore, DocumentStore, GrantStore, KeyStore,
    ProjectStore, Store, StoreError, WorkspaceStore,
};
