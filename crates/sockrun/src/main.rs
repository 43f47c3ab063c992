//! `sockrun`: runs a command with `libsock.so` preloaded and the `LIBSOCK_*`
//! variables its options ask for.
//!
//! Every option is checked with the library's own parser (`sock_core::config`)
//! before anything runs. sockrun then finds `libsock.so` (never in the
//! current directory), puts it first in `LD_PRELOAD`, warns when the command
//! cannot be interposed (a static or setuid/setgid binary), and execs the
//! command, whose exit status is therefore its own.
//!
//! One module per concern: `args` (the options, parsed with lexopt, and the
//! variables they set), `library` (finding libsock.so), `elf` (ELF headers,
//! read with object, and the interposition warnings), `help` (the text, from
//! the table of variables, wrapped with textwrap) and `exec` (the command's
//! environment, the PATH search, the exec and its exit statuses).

// clippy.toml bans `std::fs::File` and friends because inside libsock they
// would call libsock's own exports (`close`, …). sockrun is an ordinary
// program that execs its command and is never interposed, so the rule does
// not apply to it.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod args;
mod elf;
mod exec;
mod help;
mod kernel;
mod library;

use args::Action;

use std::env;
use std::ffi::OsString;
use std::io::{self, Write};
use std::process;

/// Exit status of a usage error, a bad value or a missing library.
const USAGE: i32 = 2;

const SYNOPSIS: &str = "Usage: sockrun [OPTIONS] [--] COMMAND [ARGS...]";

/// A usage error: the message and the synopsis on stderr.
fn usage_error(message: &str) -> i32 {
    eprintln!("sockrun: {message}\n{SYNOPSIS}\nTry 'sockrun --help' for more information.");
    USAGE
}

/// Writes to stdout; a closed stdout is not worth a panic.
fn print(text: &str) -> i32 {
    let _ = io::stdout().lock().write_all(text.as_bytes());
    0
}

/// Everything but the exec: returns the exit status when there is one.
fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    match help::docs(&args) {
        Some(Ok(text)) => return print(&text),
        Some(Err(message)) => return usage_error(&message),
        None => {}
    }
    match args::parse_args(args) {
        Err(message) => usage_error(&message),
        Ok(Action::Help) => print(&help::help(library::exe_dir().as_deref())),
        Ok(Action::Version) => print(&format!("sockrun {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(Action::Run(launch)) => exec::launch_command(&launch),
    }
}

fn main() {
    process::exit(run(env::args_os().skip(1)));
}

/// Scratch files for the unit tests.
#[cfg(test)]
mod testutil {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::{env, process};

    /// A fresh scratch directory for one test.
    pub(crate) fn scratch(name: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("sockrun-unit-{}-{name}", process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::canonicalize(dir).unwrap()
    }

    pub(crate) fn touch(path: &Path, mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }
}
