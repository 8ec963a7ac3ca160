//! The application: what every request shares ([`AppState`]) and the path every GraphQL
//! request takes, whether it came over HTTP, a WebSocket or from a test:
//!
//! 1. [`admit`]: the token is read without the database, the caller's budget is spent, the
//!    token's programs are resolved: the `Caller`, or a refusal before anything runs;
//! 2. [`run::execute`]: the document's shape is checked on its text ([`scan`]), then its
//!    limits once parsed ([`limits`], each document checked once and kept in
//!    [`documents`]), then the schema runs it within the deadline, its reads going through
//!    the request's [`RequestReads`](crate::db::RequestReads) (a mutation's through its own
//!    open write, committed before the answer leaves);
//! 3. [`conform`]: the response is mended where async-graphql departs from the
//!    specification.
//!
//! HTTP handlers (`http`), the WebSocket protocol (`http::ws`) and exports' admission all
//! call into here; nothing here knows HTTP.

pub mod admit;
pub mod commit;
pub mod conform;
pub mod documents;
pub mod limits;
pub mod run;
pub mod scan;
pub mod trusted;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::{JwtKeys, ProgramIds, Provider, Tokens};
pub use crate::commands::calendar_feed::FeedSettings;
use crate::db::{self, Reads};
use crate::events::EventBus;
use crate::graphql::loaders::KeptRows;
use crate::graphql::{self as schema, RelmSchema};
use crate::guard::{Limits, RateLimiter};
use crate::metrics::cache::MetricsCache;
use crate::notify::{Outbound, Sender, Settings};
use crate::origins::Origins;
use crate::secrets::{Cipher, Purpose};
use crate::telemetry::Telemetry;
use conform::OutputTypes;
use documents::Documents;

pub use admit::{Refusal, admit};
pub use run::{answer, execute};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The schema that runs queries and subscriptions.
    pub schema: RelmSchema,
    /// The same schema for mutations, with each mutation's commit ([`commit`]): a schema
    /// extension runs for every field, so queries keep the schema without it.
    pub mutations: RelmSchema,
    pub db: DatabaseConnection,
    /// Connections for the reads of GraphQL requests.
    pub reads: Reads,
    /// relm's own key, which verifies (and may sign) relm's tokens.
    pub keys: Arc<JwtKeys>,
    /// The identity provider whose key set verifies its tokens (`RELM_OIDC_ISSUER` or
    /// `RELM_JWKS_URL`).
    pub provider: Option<Arc<Provider>>,
    /// Program keys of tokens, resolved once.
    pub program_ids: Arc<ProgramIds>,
    /// Programs and environments, read once.
    pub kept: KeptRows,
    pub telemetry: Arc<Telemetry>,
    pub bus: EventBus,
    /// This process's analytics store, shared by every metrics query.
    pub analytics: Arc<MetricsCache>,
    pub graphiql: bool,
    pub limits: Limits,
    /// Request budgets of every caller.
    pub limiter: Arc<RateLimiter>,
    /// Parsed documents of recent queries.
    pub documents: Arc<Documents>,
    /// The schema's field types, to mend responses (`graphql::conform`).
    pub types: Arc<OutputTypes>,
    /// The server key, which seals and opens stored secrets.
    pub cipher: Cipher,
    /// The origins whose pages may call relm (`RELM_CORS_ORIGINS`).
    pub origins: Origins,
    /// The address users reach relm at (`RELM_PUBLIC_URL`), one of relm's own origins.
    pub public_url: Option<String>,
    /// What calendar feeds are made with: their lifetime and relm's address.
    pub feeds: Arc<FeedSettings>,
    /// The trusted documents and who may run others.
    pub trusted: Arc<trusted::Trusted>,
    /// A secret sealed with the server key that no sender knows, checked in place of the
    /// secrets an unknown key lacks (`commands::source::secrets_to_check`).
    pub stand_in: Arc<str>,
    /// Checks and sends notifications (`RELM_NOTIFY_ALLOW_HOSTS`, retries, resolver).
    pub notifications: Arc<Outbound>,
}

/// The schema for queries and subscriptions, and the one for mutations (with each
/// mutation's commit), over the same shared data.
fn schemas(
    db: &DatabaseConnection,
    bus: &EventBus,
    analytics: &Arc<MetricsCache>,
    cipher: &Cipher,
    graphiql: bool,
    notifications: &Arc<Outbound>,
) -> (RelmSchema, RelmSchema) {
    let builder = || {
        schema::schema_builder(
            db.clone(),
            bus.clone(),
            analytics.clone(),
            cipher.clone(),
            graphiql,
        )
        .data(notifications.clone())
    };
    (
        builder().finish(),
        builder().extension(commit::CommitEachMutation).finish(),
    )
}

impl AppState {
    pub fn new(db: DatabaseConnection, keys: JwtKeys, cipher: Cipher, graphiql: bool) -> Self {
        let bus = EventBus::new(db.get_database_backend());
        let analytics = Arc::new(MetricsCache::default());
        let reads = Reads::new(&db, db::READ_CONNECTIONS);
        let notifications = Arc::new(Outbound::new(Settings::default(), cipher.clone()));
        let (schema, mutations) = schemas(&db, &bus, &analytics, &cipher, graphiql, &notifications);
        // A value that fails to seal only makes unknown keys cost less than known ones.
        let stand_in = cipher
            .new_secret(Purpose::IngestSource)
            .map(|secret| secret.sealed)
            .unwrap_or_default();
        let limits = Limits::default();
        Self {
            types: Arc::new(OutputTypes::of(&schema.sdl())),
            schema,
            mutations,
            analytics,
            bus,
            db,
            reads,
            keys: Arc::new(keys),
            provider: None,
            program_ids: Arc::default(),
            kept: KeptRows::default(),
            documents: Arc::default(),
            telemetry: Arc::new(Telemetry::default()),
            graphiql,
            limiter: Arc::new(RateLimiter::new(limits.rate_limit)),
            limits,
            cipher,
            origins: Origins::default(),
            public_url: None,
            feeds: Arc::new(FeedSettings::default()),
            trusted: Arc::default(),
            stand_in: stand_in.into(),
            notifications,
        }
    }

    /// The same state sending notifications with `settings`.
    pub fn with_notifications(self, settings: Settings) -> Self {
        let notifications = Arc::new(Outbound::new(settings, self.cipher.clone()));
        let (schema, mutations) = schemas(
            &self.db,
            &self.bus,
            &self.analytics,
            &self.cipher,
            self.graphiql,
            &notifications,
        );
        Self {
            schema,
            mutations,
            notifications,
            ..self
        }
    }

    /// Starts this process's notification sender (`notify::sender`).
    pub fn notification_sender(&self) -> Sender {
        Sender::spawn(
            self.db.clone(),
            self.bus.clone(),
            self.notifications.clone(),
        )
    }

    /// The same state with an identity provider's tokens accepted.
    pub fn with_provider(self, provider: Provider) -> Self {
        Self {
            provider: Some(Arc::new(provider)),
            ..self
        }
    }

    /// Every source of valid tokens.
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens {
            own: &self.keys,
            provider: self.provider.as_deref(),
        }
    }

    /// The same state with a manifest of trusted documents.
    pub fn with_trusted(self, trusted: trusted::Trusted) -> Self {
        Self {
            trusted: Arc::new(trusted),
            ..self
        }
    }

    /// The same state serving pages of `origins`, reached at `public_url`.
    pub fn with_origins(self, origins: Origins, public_url: Option<String>) -> Self {
        let feeds = Arc::new(FeedSettings {
            public_url: public_url.clone(),
            ..*self.feeds
        });
        Self {
            origins,
            public_url,
            feeds,
            ..self
        }
    }

    /// The same state making calendar feeds that live `ttl`.
    pub fn with_feed_ttl(self, ttl: std::time::Duration) -> Self {
        let feeds = Arc::new(FeedSettings {
            ttl,
            public_url: self.feeds.public_url.clone(),
        });
        Self { feeds, ..self }
    }

    /// The same state with other limits.
    pub fn with_limits(self, limits: Limits) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::new(limits.rate_limit)),
            limits,
            ..self
        }
    }
}
