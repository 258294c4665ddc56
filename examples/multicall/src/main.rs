//! multicall: hello-hyper and http-ureq in one file, busybox-style. main dispatches on the
//! name it was started by (argv[0]'s last part): install the file once and link each
//! program's name to it (`ln -s multicall hello-hyper`). The programs share one std, one
//! allocator and one copy of each crate they both use, where two files would carry two.

use std::path::Path;
use std::process::ExitCode;

#[path = "../../hello-hyper/src/main.rs"]
mod hello_hyper;
#[path = "../../http-ureq/src/main.rs"]
mod http_ureq;

fn main() -> ExitCode {
    let arg0 = std::env::args_os().next().unwrap_or_default();
    let name = Path::new(&arg0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match name.as_str() {
        "hello-hyper" => {
            hello_hyper::run();
            ExitCode::SUCCESS
        }
        "http-ureq" => http_ureq::run(),
        _ => {
            eprintln!("multicall: start me through a link named hello-hyper or http-ureq, not {:?}", name);
            ExitCode::from(2)
        }
    }
}
