//! http-ureq: fetch a URL with ureq and print the body to stdout.
//!
//!   http-ureq URL          (or URL=... http-ureq)
//!   http-ureq --version
//!
//! Exit status: 0 on a 2xx response, 1 on any error (connection, non-2xx
//! status, writing stdout), 2 on usage errors. No TLS: http:// only.

use std::io::{self, Write};
use std::process::ExitCode;

const NAME: &str = "http-ureq"; // not CARGO_PKG_NAME: the multicall example (../multicall) includes this file
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn usage_text() -> String {
    format!("usage: {} URL | --version | --help\n       (or set URL in the environment)", NAME)
}

fn usage() -> ExitCode {
    eprintln!("{}", usage_text());
    ExitCode::from(2)
}

fn fetch(url: &str) -> Result<(), String> {
    let response = ureq::get(url).call().map_err(|e| e.to_string())?;
    let mut body = response.into_reader();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    io::copy(&mut body, &mut out).map_err(|e| format!("{}: {}", url, e))?;
    out.flush().map_err(|e| format!("stdout: {}", e))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let url = match (args.next(), args.next()) {
        (Some(a), None) if a == "--version" || a == "-V" => {
            println!("{} {}", NAME, VERSION);
            return ExitCode::SUCCESS;
        }
        (Some(a), None) if a == "--help" || a == "-h" => {
            println!("{}", usage_text());
            return ExitCode::SUCCESS;
        }
        (Some(a), None) if !a.starts_with('-') => a,
        (None, None) => match std::env::var("URL") {
            Ok(u) if !u.is_empty() => u,
            _ => return usage(),
        },
        _ => return usage(),
    };
    match fetch(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {}", NAME, e);
            ExitCode::FAILURE
        }
    }
}

/// The multicall example (../multicall) compiles this file as one of its modules, with its
/// feature `multicall`, and runs the program through this; this crate has no such feature.
#[cfg(feature = "multicall")]
pub(crate) fn run() -> ExitCode {
    main()
}
