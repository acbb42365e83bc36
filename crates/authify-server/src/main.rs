//! `authify`: parse the command line and settings, then serve or manage keys.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::process::ExitCode;

use authify_server::cli::{Cli, Command, run_admin, run_keys};
use authify_server::settings::CONFIG_FILE_ENV;
use authify_server::{Application, Settings};
use clap::Parser as _;

// glibc's allocator kept every thread's freed argon2 blocks (19 MiB each): RSS reached 3 GiB
// after 10,000 sign-ins. mimalloc, told to purge freed memory at once (see `allocator`), keeps the
// server near 20 MiB after the same load (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    #[cfg(unix)]
    if authify_server::allocator::needs_reexec(std::env::vars_os()) {
        let failed = authify_server::allocator::reexec_with_options();
        eprintln!(
            "authify: running with mimalloc's default options: re-executing failed: {failed}"
        );
    }
    let cli = Cli::parse();
    // Non-UTF-8 variables cannot be Authify settings; skipping them beats panicking in env::vars().
    let mut env: HashMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    if let Some(path) = &cli.config {
        env.insert(CONFIG_FILE_ENV.into(), path.clone());
    }
    let settings = match Settings::load(&env) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("authify: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = match tracing_subscriber::EnvFilter::try_new(&settings.log) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "authify: invalid setting AUTHIFY_LOG (log) = {:?}: {e}",
                settings.log
            );
            return ExitCode::from(2);
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if settings.log_json {
        // One object per line; the request span (with its `id`) on every event inside it.
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }

    // The one reading of the system clock for a command; the server reads it per request.
    let now = authify_core::Clock::now(&authify_core::SystemClock);
    let result = match &cli.command {
        Command::Serve => serve(&settings),
        Command::Keys(command) => {
            run_keys(command, &settings, now, &mut std::io::stdout()).map_err(|e| e.to_string())
        }
        other => run_admin(
            other,
            &settings,
            now,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("authify: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: &Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let clock = std::sync::Arc::new(authify_core::SystemClock);
        let app = Application::build(settings, clock).map_err(|e| e.to_string())?;
        tracing::info!(url = %settings.public_url, bind = %settings.bind, port = app.port(), "authify is listening");
        if let Some(port) = app.metrics_port() {
            tracing::info!(port, "metrics listening (GET /metrics)");
        }
        // SIGTERM or SIGINT: actix stops accepting, lets in-flight requests finish (at most 10
        // seconds, `shutdown_timeout`), then the pools close (SQLite checkpoints its WAL).
        let result = app.run_until_stopped().await.map_err(|e| e.to_string());
        tracing::info!("authify stopped");
        result
    })
}
