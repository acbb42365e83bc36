//! The command line: `serve`, `migrate`, `keys generate|list`, and administration (`users`,
//! `apps`, `orgs`, `groups`, `seed`) through the same use cases as the console and the API. Output
//! is for people and scripts alike: results on stdout, one-line errors on stderr, non-zero exit
//! codes on failure.

mod admin;
mod keys;

use authify_domain::Algorithm;
use clap::{Args, Parser, Subcommand};

pub use admin::run_admin;
pub use keys::run_keys;

/// Authify, an identity provider: sign-in, signed JWTs, public keys for relying apps.
#[derive(Debug, Parser)]
#[command(name = "authify", version)]
pub struct Cli {
    /// Settings file (default: $AUTHIFY_CONFIG, else ./authify.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (generates a signing key on first start).
    Serve,
    /// Apply pending database migrations (serve also does this at start).
    Migrate,
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage registered applications.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Manage groups inside organizations.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Fill the database with synthetic users and organizations, for benchmarks. Every seeded
    /// user has the password given on standard input.
    Seed {
        /// Users to create (`seed-NNNNNN@example.com`).
        #[arg(long, default_value_t = 100_000)]
        users: u32,
        /// Organizations to create, each with members and a group.
        #[arg(long, default_value_t = 10_000)]
        orgs: u32,
        /// Members per organization.
        #[arg(long, default_value_t = 10)]
        members_per_org: u32,
    },
}

/// `authify users ...`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password is read from standard input (never from arguments, which
    /// other local users can see).
    Create {
        /// E-mail address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required: the only way to give one).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Display name (default: the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
        /// Make the user a global administrator.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Disable a user and end their sessions (never the last enabled global administrator).
    Disable {
        /// E-mail address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled user.
    Enable {
        /// E-mail address.
        #[arg(long)]
        email: String,
    },
    /// Remove every second factor and recovery code of a user who lost their device; they are
    /// told by e-mail and sign in with their password alone until they set up a new one.
    ResetFactors {
        /// E-mail address.
        #[arg(long)]
        email: String,
    },
}

/// `authify apps ...`
#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Register an application; prints its id (the OAuth client_id) and a secret shown only
    /// this once (none for a --public app).
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// An allowed callback URL (the legacy flow matches scheme, host, port and path; OpenID
        /// `redirect_uri` must equal it exactly). Repeat for several.
        #[arg(long = "callback")]
        callbacks: Vec<String>,
        /// No secret (single-page or native app): PKCE S256 is required.
        #[arg(long, conflicts_with = "service")]
        public: bool,
        /// A machine client: `client_credentials` only, no users, no callback needed.
        #[arg(long)]
        service: bool,
        /// Trusted by the operator: users are not asked for consent.
        #[arg(long)]
        first_party: bool,
        /// Algorithm of its OpenID Connect tokens.
        #[arg(long, default_value = "ES256", value_parser = ["ES256", "ES384", "ES512"])]
        alg: String,
        /// OpenID Back-Channel Logout receiver: gets a logout token when a session it got a
        /// token in ends.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Where RP-initiated logout may send the browser afterwards.
        #[arg(long)]
        post_logout_redirect_uri: Option<String>,
        /// Sign-ins to this app need a second factor (users without one set one up first).
        #[arg(long)]
        require_mfa: bool,
        #[command(flatten)]
        output: Output,
    },
    /// List applications and their callbacks.
    List {
        #[command(flatten)]
        output: Output,
    },
}

/// `authify orgs ...`
#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Create an organization.
    Create {
        /// Unique name.
        #[arg(long)]
        name: String,
    },
    /// Add a user to an organization.
    AddMember {
        /// Organization name.
        #[arg(long)]
        org: String,
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// Make them an administrator of the organization.
        #[arg(long)]
        admin: bool,
    },
}

/// `authify groups ...`
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Create a group in an organization.
    Create {
        /// Organization name.
        #[arg(long)]
        org: String,
        /// Group name, unique in the organization.
        #[arg(long)]
        name: String,
    },
    /// Add an organization member to a group.
    AddMember {
        /// Organization name.
        #[arg(long)]
        org: String,
        /// Group name.
        #[arg(long)]
        group: String,
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
    },
}

/// `--json`.
#[derive(Debug, Args)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `authify keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a key. In the database it signs at once (every instance within
    /// AUTHIFY_KEY_REFRESH_SECONDS); in a keys directory, after the next start.
    Generate {
        /// Algorithm of the new key (default: AUTHIFY_JWT_ALGORITHM).
        #[arg(long, value_parser = parse_algorithm)]
        alg: Option<Algorithm>,
    },
    /// Show every key: kid, algorithm, created, when it signs, active.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rotate now (keys in the database): a new key of the configured algorithm, published at
    /// once and signing after AUTHIFY_KEY_PREPUBLISH_HOURS, or at once with --now.
    Rotate {
        /// Sign with the new key at once (a key thought compromised). Relying parties that
        /// cached the JWKS refuse its tokens until they fetch it again.
        #[arg(long)]
        now: bool,
    },
    /// Import the key files of a directory (an earlier version's ./keys) into the database.
    Import {
        /// The directory.
        #[arg(long, default_value = "./keys")]
        from: std::path::PathBuf,
    },
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.to_ascii_uppercase()
        .parse::<Algorithm>()
        .map_err(|e| e.to_string())
}
