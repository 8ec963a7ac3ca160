//! The `relm` command line of interface.md.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use api::app::AppState;
use api::app::trusted::{Only, Trusted};
use api::auth::{JwtKeys, Role, Scope};
use api::config::{self, Backend, JwtConfig, JwtSettings, ProviderSettings};
use api::error::ApiError;
use api::exports::{self, Dataset, ExportError, Format, Params};
use api::guard::Limits;
use api::http;
use api::metrics::cache::MetricsCache;
use api::origins::Origins;
use api::progress::Progress;
use api::secrets::{self, Cipher};
use api::{db, graphql, notify, telemetry};

use crate::output::{outln, print_out};
use crate::{backtest, bench, seed};

/// relm: release data and analytics.
#[derive(Parser, Debug)]
#[command(name = "relm", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log filter, e.g. info or relm=debug.
    #[arg(long, global = true, env = "RELM_LOG", default_value = "info")]
    pub log: String,

    /// Log format: text or json.
    #[arg(long, global = true, env = "RELM_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the API (migrates the database first unless --no-migrate).
    Serve(ServeArgs),
    /// Database migrations.
    Migrate(MigrateArgs),
    /// Load the demo data set.
    Seed(SeedArgs),
    /// Print a signed JWT for the configured key.
    Token(TokenArgs),
    /// Print the GraphQL SDL.
    Schema,
    /// Measure how fast metrics answer on the data in the database.
    Bench(BenchArgs),
    /// Write a report (releases, deployments, incidents, actions or trend) to a file or stdout.
    Export(ExportArgs),
    /// Release forecasts: how well they would have done.
    Forecast(ForecastArgs),
}

#[derive(Args, Debug)]
pub struct ForecastArgs {
    #[command(subcommand)]
    pub command: ForecastCommand,
}

#[derive(Subcommand, Debug)]
pub enum ForecastCommand {
    /// Print the forecast's accuracy on releases delivered in a window, with its
    /// calibration bins.
    Backtest(BacktestArgs),
}

#[derive(Args, Debug)]
pub struct BacktestArgs {
    /// Start of the window, RFC 3339 (default: a year before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// End of the window, exclusive, RFC 3339 (default: now).
    #[arg(long)]
    pub to: Option<String>,
    /// A program to score; repeat for several; none means every program.
    #[arg(long = "program", value_name = "KEY")]
    pub programs: Vec<String>,
    /// How many days before plannedEnd each forecast is made, 1 to 90 (default 7).
    #[arg(long)]
    pub lead_days: Option<i32>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// releases, deployments, incidents, actions or trend.
    #[arg(value_parser = str::parse::<Dataset>)]
    pub dataset: Dataset,
    /// csv, parquet or json (JSON lines).
    #[arg(long, default_value = "csv", value_parser = str::parse::<Format>)]
    pub format: Format,
    /// Start of the window, RFC 3339 (required for trend and impact).
    #[arg(long)]
    pub from: Option<String>,
    /// End of the window, exclusive, RFC 3339 (required for trend and impact).
    #[arg(long)]
    pub to: Option<String>,
    /// A program to report on; repeat for several; none means every program.
    #[arg(long = "program", value_name = "KEY")]
    pub programs: Vec<String>,
    /// Trend buckets: day, week, month (default) or quarter.
    #[arg(long)]
    pub granularity: Option<String>,
    /// Impact windows in days, 7 to 365 (default 90).
    #[arg(long)]
    pub window_days: Option<String>,
    /// The file to write; stdout when left out.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Warm queries to time.
    #[arg(long, default_value_t = 30)]
    pub iterations: usize,
    /// Writes, each followed by a timed query.
    #[arg(long, default_value_t = 10)]
    pub writes: usize,
    /// Measure concurrent writes instead: this many writers at once (into a program BENCHW).
    #[arg(long)]
    pub writers: Option<usize>,
    /// Measure ingestion instead: this many senders post deliveries at once (program BENCHI).
    #[arg(long)]
    pub senders: Option<usize>,
    /// Measure notifications instead: this many writes without and with channels wanting
    /// them, then the notifications they queued sent to a local receiver (program BN…).
    #[arg(long)]
    pub notifications: Option<usize>,
    /// Channels wanting each write's event, with --notifications.
    #[arg(long, default_value_t = 8)]
    pub channels: usize,
    /// How long the concurrent writers or senders run, in seconds.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// How long each read of the read-path table is loaded, in seconds; 0 skips the table.
    #[arg(long, default_value_t = 10)]
    pub read_seconds: u64,
    /// Keep-alive connections loading each read.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
}

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// SQLite file (sqlite://FILE?mode=rwc) or postgres://… URL.
    #[arg(long, env = "RELM_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Args, Debug, Clone)]
pub struct SecretKeyArgs {
    /// The server key that encrypts stored secrets: 32 bytes as 64 hex digits or base64
    /// (default with SQLite: generated beside the database).
    #[arg(long, env = "RELM_SECRET_KEY", hide_env_values = true, hide = true)]
    pub secret_key: Option<String>,
}

impl SecretKeyArgs {
    fn resolve(&self, database_url: &str) -> anyhow::Result<Cipher> {
        secrets::resolve(self.secret_key.as_deref(), database_url)
    }
}

#[derive(Args, Debug, Clone)]
pub struct JwtArgs {
    /// HS256 secret, at least 32 bytes.
    #[arg(long, env = "RELM_JWT_SECRET", hide_env_values = true, hide = true)]
    pub jwt_secret: Option<String>,
    /// PEM public key (RS256, ES256 or EdDSA) of an external identity provider.
    #[arg(long, env = "RELM_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Required `iss` claim.
    #[arg(long, env = "RELM_JWT_ISSUER", default_value = "relm")]
    pub jwt_issuer: String,
    /// Required `aud` claim.
    #[arg(long, env = "RELM_JWT_AUDIENCE", default_value = "relm")]
    pub jwt_audience: String,
}

impl JwtArgs {
    /// relm's own key; with an identity provider (`has_provider`), PostgreSQL needs none.
    fn resolve(&self, database_url: &str, has_provider: bool) -> anyhow::Result<JwtConfig> {
        JwtSettings {
            secret: self.jwt_secret.clone(),
            public_key_file: self.jwt_public_key_file.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            has_provider,
        }
        .resolve(database_url)
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Listen address.
    #[arg(long, env = "RELM_BIND", default_value = config::DEFAULT_BIND)]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
    /// Load the demo data set when the database has no programs yet.
    #[arg(long)]
    pub demo: bool,
    /// Do not apply pending migrations at start.
    #[arg(long)]
    pub no_migrate: bool,
    /// Serve GraphiQL and introspection (default: on for SQLite, off otherwise).
    #[arg(long, env = "RELM_GRAPHIQL", value_parser = BoolishValueParser::new())]
    pub graphiql: Option<bool>,
    /// The deadline of a GraphQL request: seconds, or a duration such as 30s or 2m.
    #[arg(long, env = "RELM_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Requests per second per caller, with bursts of twice that; 0 for no limit.
    #[arg(long, env = "RELM_RATE_LIMIT", default_value_t = api::guard::DEFAULT_RATE_LIMIT)]
    pub rate_limit: u32,
    /// How long a client may take to send a request's headers, or its body, and how long
    /// a WebSocket may go without connection_init.
    #[arg(long, env = "RELM_CLIENT_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub client_timeout: Duration,
    #[command(flatten)]
    pub public_url: PublicUrlArgs,
    /// Origins whose pages may call /graphql and /v1/exports, comma-separated, e.g.
    /// https://releases.example.com,http://localhost:5173.
    #[arg(long, env = "RELM_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// A JSON manifest of trusted documents, {"<sha256 id>": "<document>"}.
    #[arg(long, env = "RELM_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<PathBuf>,
    /// Who may run documents outside the manifest: off (everybody), viewers (not VIEWER
    /// tokens) or all (ADMIN tokens only).
    #[arg(long, env = "RELM_TRUSTED_DOCUMENTS_ONLY", default_value = "off")]
    pub trusted_documents_only: Only,
    #[command(flatten)]
    pub provider: ProviderArgs,
    /// How long a calendar feed's key lives: a duration such as 90d or 30d.
    #[arg(long, env = "RELM_CALENDAR_FEED_TTL", default_value = "90d", value_parser = parse_duration)]
    pub calendar_feed_ttl: Duration,
    /// Hosts notifications may reach over plain http:// or at private addresses,
    /// comma-separated host[:port], e.g. hooks.internal,10.0.0.5:8080.
    #[arg(long, env = "RELM_NOTIFY_ALLOW_HOSTS", default_value = "")]
    pub notify_allow_hosts: String,
}

/// An OpenID Connect provider whose tokens relm accepts besides its own.
#[derive(Args, Debug, Clone)]
pub struct ProviderArgs {
    /// The provider's issuer; its discovery document names its key set, e.g.
    /// https://id.example.com/realms/acme.
    #[arg(long, env = "RELM_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The key set's address, instead of discovery.
    #[arg(long, env = "RELM_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// The iss of the key set's tokens (default: RELM_JWT_ISSUER).
    #[arg(long, env = "RELM_JWKS_ISSUER")]
    pub jwks_issuer: Option<String>,
    /// A JSON file mapping the provider's groups to roles and programs.
    #[arg(long, env = "RELM_CLAIMS_MAP")]
    pub claims_map: Option<PathBuf>,
}

impl ProviderArgs {
    fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            oidc_issuer: self.oidc_issuer.clone(),
            jwks_url: self.jwks_url.clone(),
            jwks_issuer: self.jwks_issuer.clone(),
            claims_map: self.claims_map.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct PublicUrlArgs {
    /// The address people open relm at, for printed links, e.g. https://relm.example.com
    /// behind a proxy (default: http:// and the listen address).
    #[arg(long, env = "RELM_PUBLIC_URL")]
    pub public_url: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default)]
pub enum MigrateAction {
    #[default]
    Up,
    Down,
    Status,
    Fresh,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// up (default), down (one step), status or fresh (drop everything and migrate).
    #[arg(default_value = "up")]
    pub action: MigrateAction,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Load the demo data set (the only data set).
    #[arg(long, required = true)]
    pub demo: bool,
    /// Multiplies the volume: N copies of every demo program.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub scale: u32,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
#[value(rename_all = "snake_case")]
pub enum RoleArg {
    Viewer,
    Analyst,
    ReleaseManager,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Analyst => Role::Analyst,
            RoleArg::ReleaseManager => Role::ReleaseManager,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// viewer, analyst, release_manager or admin.
    #[arg(long)]
    pub role: RoleArg,
    /// A program the token may see; repeat for several; none means every program.
    #[arg(long = "program", value_name = "KEY")]
    pub programs: Vec<String>,
    /// The `sub` claim.
    #[arg(long, default_value = "relm-cli")]
    pub subject: String,
    /// Lifetime, e.g. 30m, 24h, 7d or seconds.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub ttl: Duration,
    /// Print the dashboard's link that signs in with the token, instead of the bare token.
    #[arg(long)]
    pub dashboard_url: bool,
    /// The listen address of the server, for the dashboard's link.
    #[arg(long, env = "RELM_BIND", default_value = config::DEFAULT_BIND)]
    pub bind: String,
    #[command(flatten)]
    pub public_url: PublicUrlArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
}

/// Parses seconds (`90`) or a humantime duration (`90s`, `30m`, `24h`, `7d`, `1h 30m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text)
            .map_err(|_| format!("'{text}' is not a duration such as 30m, 24h or 7d"))?,
    };
    if duration.is_zero() {
        return Err(format!("'{text}' is not a positive duration"));
    }
    Ok(duration)
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init_logging(&cli.log, cli.log_format == LogFormat::Json)?;
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Seed(args) => {
            let url = &args.database.database_url;
            let cipher = args.secret_key.resolve(url)?;
            let db = db::connect(url).await?;
            db::migrate(&db).await?;
            secrets::prepare_stored(&db, &cipher).await?;
            let report = seed::seed_demo(&db, &cipher, args.scale).await?;
            outln!("{report}");
            Ok(())
        }
        Command::Token(args) => {
            let jwt = args.jwt.resolve(&args.database.database_url, false)?;
            let keys = JwtKeys::new(&jwt.key, &jwt.issuer, &jwt.audience)?;
            let programs = (!args.programs.is_empty()).then_some(args.programs);
            let token = keys.sign(
                &args.subject,
                args.role.into(),
                programs,
                args.ttl.as_secs(),
            )?;
            if args.dashboard_url {
                let base = config::base_url(args.public_url.public_url.as_deref(), &args.bind);
                outln!("{}", config::dashboard_link(&base, &token));
            } else {
                outln!("{token}");
            }
            Ok(())
        }
        Command::Bench(args) => {
            let url = &args.database.database_url;
            let jwt = args.jwt.resolve(url, false)?;
            let keys = JwtKeys::new(&jwt.key, &jwt.issuer, &jwt.audience)?;
            let cipher = args.secret_key.resolve(url)?;
            let db = db::connect(url).await?;
            db::migrate(&db).await?;
            secrets::prepare_stored(&db, &cipher).await?;
            let seconds = args.seconds.max(1);
            if let Some(writes) = args.notifications {
                return bench::notifications::notifications(
                    db,
                    keys,
                    cipher,
                    writes.max(1),
                    args.channels.max(1),
                )
                .await;
            }
            match (args.writers, args.senders) {
                (_, Some(senders)) => {
                    bench::ingest::deliveries(db, keys, cipher, senders.max(1), seconds).await
                }
                (Some(writers), None) => {
                    bench::writes(db, keys, cipher, writers.max(1), seconds).await
                }
                (None, None) => {
                    let (iterations, writes) = (args.iterations.max(1), args.writes.max(1));
                    bench::bench(&db, &keys, &cipher, iterations, writes).await?;
                    if args.read_seconds == 0 {
                        return Ok(());
                    }
                    let connections = args.connections.max(1);
                    bench::read::read(&db, keys, cipher, connections, args.read_seconds).await
                }
            }
        }
        Command::Export(args) => export(args).await,
        Command::Forecast(ForecastArgs {
            command: ForecastCommand::Backtest(args),
        }) => {
            backtest::backtest(
                &args.database.database_url,
                args.from.as_deref(),
                args.to.as_deref(),
                &args.programs,
                args.lead_days,
            )
            .await
        }
        Command::Schema => {
            print_out(&graphql::sdl());
            Ok(())
        }
    }
}

async fn has_programs(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(entity::program::Entity::find().count(db).await? > 0)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    let backend = Backend::of(url)?;
    let provider_settings = args.provider.settings();
    let jwt = args.jwt.resolve(url, provider_settings.configured())?;
    let keys = JwtKeys::new(&jwt.key, &jwt.issuer, &jwt.audience)?;
    let provider = provider_settings.resolve(&keys)?;
    let cipher = args.secret_key.resolve(url)?;
    let origins = Origins::parse(&args.cors_origins).map_err(|e| anyhow::anyhow!(e))?;
    let notifications = notify::Settings {
        allow: notify::AllowHosts::parse(&args.notify_allow_hosts)
            .map_err(|e| anyhow::anyhow!(e))?,
        public_url: args
            .public_url
            .public_url
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty()),
        ..notify::Settings::default()
    };
    let manifest = match &args.trusted_documents {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "RELM_TRUSTED_DOCUMENTS: cannot read {}: {e}",
                path.display()
            )
        })?,
        None => "{}".to_owned(),
    };
    let trusted =
        Trusted::load(&manifest, args.trusted_documents_only).map_err(|e| anyhow::anyhow!(e))?;
    let limits = Limits {
        request_timeout: args.request_timeout,
        rate_limit: args.rate_limit,
        header_read_timeout: args.client_timeout,
        body_read_timeout: args.client_timeout,
        ws_init_timeout: args.client_timeout,
    };
    let db = db::connect_with(url, Some(limits.request_timeout)).await?;
    if !args.no_migrate {
        db::migrate(&db).await?;
    }
    secrets::prepare_stored(&db, &cipher).await?;
    if args.demo && !has_programs(&db).await? {
        tracing::info!("loading the demo data set");
        let report = seed::seed_demo(&db, &cipher, 1).await?;
        tracing::info!("{report}");
    }
    let graphiql = args.graphiql.unwrap_or(backend == Backend::Sqlite);
    let admin_token = match &jwt.generated_secret {
        Some(_) => Some(keys.sign("admin", Role::Admin, None, 24 * 3600)?),
        None => None,
    };
    let mut state = AppState::new(db.clone(), keys, cipher, graphiql)
        .with_limits(limits)
        .with_origins(origins, args.public_url.public_url.clone())
        .with_trusted(trusted)
        .with_feed_ttl(args.calendar_feed_ttl)
        .with_notifications(notifications);
    if let Some(provider) = provider {
        tokio::spawn(provider.key_set().clone().keep_fresh());
        state = state.with_provider(provider);
    }
    state.bus.listen(&db).await?;
    // Load the analytics store now, so that the first dashboard seldom waits for it.
    let (analytics, warm_db) = (state.analytics.clone(), db.clone());
    tokio::spawn(async move {
        if let Err(err) = analytics.snapshot(&warm_db).await {
            tracing::warn!(error = %err, "could not load the analytics store at start");
        }
    });
    let sender = state.notification_sender();
    let bind = args.bind.clone();
    let public_url = args.public_url.public_url.clone();
    let served = http::serve(
        state,
        &bind,
        |addr| {
            tracing::info!(%addr, database = %config::redact(url), "relm is listening");
            let base = config::base_url(public_url.as_deref(), &addr.to_string());
            let mut lines = Vec::new();
            if graphiql {
                lines.push(format!("GraphiQL: {base}/graphql"));
            }
            match &admin_token {
                Some(token) => {
                    lines.push(format!(
                        "Dashboard: {}",
                        config::dashboard_link(&base, token)
                    ));
                    lines.push(format!("Admin token (24h): {token}"));
                }
                None => lines.push(format!("Dashboard: {base}/dashboard")),
            }
            // A server must not stop because whoever started it closed its output.
            let mut out = std::io::stdout().lock();
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
        },
        http::shutdown_signal(),
    )
    .await;
    sender.stop().await;
    served?;
    db.close().await.ok();
    tracing::info!("stopped");
    Ok(())
}

/// Writes a report straight from the database, with every program in scope. A report
/// that fails leaves no file behind.
async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let db = db::connect(&args.database.database_url).await?;
    let params = Params {
        from: args.from,
        to: args.to,
        program_keys: args.programs,
        granularity: args.granularity,
        window_days: args.window_days,
    };
    let export = exports::resolve(&db, &Scope::All, args.dataset, args.format, params)
        .await
        .map_err(|err| match err {
            ExportError::Param(p) => {
                let flag = match p.parameter.as_str() {
                    "programKey" => "program",
                    "windowDays" => "window-days",
                    other => other,
                };
                anyhow::anyhow!("invalid --{flag}: {}", p.message)
            }
            ExportError::Failed(e) => operator_error(e),
        })?;
    let cache = MetricsCache::default();
    let written = match &args.output {
        Some(path) => {
            let progress = if Progress::drawn() {
                let total = exports::count(&db, &export).await.map_err(operator_error)?;
                Progress::of(total, "rows")
            } else {
                Progress::hidden()
            };
            // Only a regular file is removed on failure, never a device such as /dev/stdout.
            let regular = std::fs::metadata(path).map_or(true, |m| m.is_file());
            let file = std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            let out = BufWriter::new(file);
            let written = exports::run(&db, &cache, &export, out, progress.clone()).await;
            progress.finish();
            if written.is_err() && regular {
                std::fs::remove_file(path).ok();
            }
            written
        }
        None => {
            let out = BufWriter::new(std::io::stdout());
            exports::run(&db, &cache, &export, out, Progress::hidden()).await
        }
    };
    let rows = written.map_err(operator_error)?;
    tracing::info!(dataset = export.dataset.name(), rows, "export written");
    db.close().await.ok();
    Ok(())
}

/// An API error for the operator at the terminal, who may see its cause.
fn operator_error(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Internal(detail) | ApiError::Busy(detail) | ApiError::Unavailable(detail) => {
            anyhow::anyhow!("the export failed: {detail}")
        }
        other => anyhow::anyhow!("{other}"),
    }
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let db = db::connect(&args.database.database_url).await?;
    match args.action {
        MigrateAction::Up => db::migrate(&db).await?,
        MigrateAction::Down => Migrator::down(&db, Some(1)).await?,
        MigrateAction::Fresh => Migrator::fresh(&db).await?,
        MigrateAction::Status => {
            for m in Migrator::get_applied_migrations(&db).await? {
                outln!("applied  {}", m.name());
            }
            for m in Migrator::get_pending_migrations(&db).await? {
                outln!("pending  {}", m.name());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0h").is_err());
    }
}
