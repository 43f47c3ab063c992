//! Running the command: its variables and `LD_PRELOAD`, the `PATH` search
//! `execvp` would make, the warnings, the exec, and the status a shell would
//! give when it cannot run.

use crate::args::{self, Launch};
use crate::{USAGE, elf, library};
use sock_core::config::{self, Config};
use sock_core::rules;

use std::env;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Exit status when the command was found but cannot be executed.
const NOT_EXECUTABLE: i32 = 126;
/// Exit status when the command was not found.
const NOT_FOUND: i32 = 127;

/// `LD_PRELOAD` with `lib` first and what was there already after it.
fn ld_preload(lib: &Path, existing: Option<&OsStr>) -> OsString {
    let mut value = lib.as_os_str().to_os_string();
    if let Some(rest) = existing.filter(|v| !v.is_empty()) {
        value.push(":");
        value.push(rest);
    }
    value
}

/// The file `execvp` would run for `name`: a name with a slash as it is,
/// else the first executable regular file in `PATH` (an empty entry is the
/// current directory; no `PATH` is `/bin:/usr/bin`, as glibc has it).
fn resolve_command(name: &OsStr, path_var: Option<&OsStr>) -> io::Result<PathBuf> {
    if name.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(name));
    }
    let mut denied = false;
    if !name.is_empty() {
        let path_var = path_var.unwrap_or(OsStr::new("/bin:/usr/bin"));
        for dir in path_var.as_bytes().split(|&b| b == b':') {
            let dir = if dir.is_empty() {
                Path::new(".")
            } else {
                Path::new(OsStr::from_bytes(dir))
            };
            let candidate = dir.join(name);
            match fs::metadata(&candidate) {
                Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {
                    return Ok(candidate);
                }
                Ok(m) if m.is_file() => denied = true,
                _ => {}
            }
        }
    }
    Err(if denied {
        io::Error::from(io::ErrorKind::PermissionDenied)
    } else {
        io::Error::new(io::ErrorKind::NotFound, "command not found")
    })
}

/// Reports a command that could not be run; the status a shell would give.
fn exec_failure(name: &OsStr, err: &io::Error) -> i32 {
    eprintln!("sockrun: {}: {}", name.to_string_lossy(), describe(err));
    if err.kind() == io::ErrorKind::NotFound {
        NOT_FOUND
    } else {
        NOT_EXECUTABLE
    }
}

/// An error's text without Rust's " (os error N)" suffix.
pub(crate) fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
/// Validates, finds the library, and execs the command: returns only on
/// failure, with the exit status.
pub(crate) fn launch_command(launch: &Launch) -> i32 {
    let cwd = env::current_dir().ok();
    let vars = match args::variables(&launch.settings, cwd.as_deref()) {
        Ok(vars) => vars,
        Err(complaints) => {
            for complaint in complaints {
                eprintln!("sockrun: {complaint}");
            }
            return USAGE;
        }
    };
    let (lib, lib_elf) = match library::library(launch) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("sockrun: {message}");
            return USAGE;
        }
    };
    let name = &launch.command[0];
    let program = match resolve_command(name, env::var_os("PATH").as_deref()) {
        Ok(program) => program,
        Err(err) => return exec_failure(name, &err),
    };
    // The settings the command will run with: the options', else the
    // environment's (whose problems the library reports).
    let (config, _) = config::parse(|name| {
        vars.get(name)
            .cloned()
            .or_else(|| env::var(name).ok())
            .filter(|v| !v.is_empty())
    });
    let nested = nested();
    let wanted = kernel_wanted(launch.kernel, &config, || elf::is_static(&program));
    let kernel = match wanted {
        None => None,
        Some(asked) => match kernel_mode(&config, asked, nested) {
            Err(status) => return status,
            Ok(mode) => mode,
        },
    };
    // Rules an outer sockrun's supervisor holds hold for a static target too.
    let held = kernel.is_some() || (nested && held_by_outer(&config));
    for warning in elf::interposition_warnings(&program, &lib_elf, held) {
        eprintln!("sockrun: warning: {warning}");
    }
    let mut command = Command::new(&program);
    command
        .arg0(name)
        .args(&launch.command[1..])
        .envs(&vars)
        .env(
            "LD_PRELOAD",
            ld_preload(&lib, env::var_os("LD_PRELOAD").as_deref()),
        );
    let Some(policy) = kernel else {
        return exec_failure(name, &command.exec());
    };
    match crate::kernel::run(command, policy, config) {
        Ok(status) => status,
        Err(crate::kernel::StartError::Exec(err)) => exec_failure(name, &err),
        Err(crate::kernel::StartError::Setup(why)) => {
            let mode = mode_name(wanted == Some(true));
            eprintln!("sockrun: {mode}: {why}; --no-kernel runs with preload only");
            USAGE
        }
    }
}

/// Whether the kernel mode is wanted, and how: None for preload only,
/// Some(true) when `--kernel` asks for it, Some(false) when sockrun picks
/// it itself (SPEC, "Kernel-enforced mode": when) — for access rules, with
/// any target (a script may start a static binary), and for a static
/// target (`is_static`) that asks for tracing, stats or socket options,
/// which only the supervisor can give it.
fn kernel_wanted(
    asked: Option<bool>,
    config: &Config,
    is_static: impl FnOnce() -> bool,
) -> Option<bool> {
    let rules = config.allow.is_some() || config.deny.is_some();
    match asked {
        Some(true) => Some(true),
        Some(false) => None,
        None if rules => Some(false),
        None if (config.trace.is_some() || config.stats.is_some() || config.has_policy())
            && is_static() =>
        {
            Some(false)
        }
        None => None,
    }
}

/// The kernel mode (`asked`: by `--kernel`): Ok(Some(rules)) to run
/// supervised with the access rules in force (None: no rules), Ok(None) to
/// run preloaded only (the kernel cannot, and no rules are set: a
/// warning), Err(status) when rules are set and the kernel cannot.
fn kernel_mode(
    config: &Config,
    asked: bool,
    nested: bool,
) -> Result<Option<Option<rules::Policy>>, i32> {
    let has_rules = config.allow.is_some() || config.deny.is_some();
    let mode = mode_name(asked);
    // Under another sockrun's kernel mode (`nested`), whose supervisor
    // holds its rules for this process and everything it starts: a filter
    // chain has one listener, so there cannot be a second supervisor.
    if nested {
        if has_rules && !held_by_outer(config) {
            eprintln!(
                "sockrun: {mode}: already under another sockrun's kernel mode, whose \
                 supervisor holds its own rules, not these; --no-kernel runs them with \
                 preload only"
            );
            return Err(USAGE);
        }
        if !has_rules {
            eprintln!(
                "sockrun: warning: {mode}: already under another sockrun's kernel mode; \
                 running with preload only"
            );
        }
        // The same rules: held by the outer supervisor already.
        return Ok(None);
    }
    if let Err(missing) = crate::kernel::probe::probe() {
        if has_rules {
            eprintln!(
                "sockrun: {mode}: this kernel lacks {missing}; --no-kernel runs with preload only"
            );
            return Err(USAGE);
        }
        eprintln!(
            "sockrun: warning: {mode}: this kernel lacks {missing}; running with preload only"
        );
        return Ok(None);
    }
    // A bad list from the environment fails closed, as in the library.
    let policy = has_rules.then(|| {
        rules::Policy::new(config.allow.as_deref(), config.deny.as_deref())
            .unwrap_or_else(|_| rules::Policy::fail_closed())
    });
    if let Some(Err(crate::kernel::emulate::OTHER_RULES)) =
        policy.as_ref().map(crate::kernel::emulate::can_filter)
    {
        eprintln!(
            "sockrun: {mode}: the sockets made here already carry another locked socket \
             filter (an outer sockrun with other rules?), so the rules' cannot be attached; \
             run this one with the same rules, or --no-kernel for preload only"
        );
        return Err(USAGE);
    }
    if let Some(Err(e)) = policy.as_ref().map(crate::kernel::emulate::can_filter) {
        let e = io::Error::from_raw_os_error(e);
        eprintln!(
            "sockrun: {mode}: cannot attach the rules' socket filter (SO_ATTACH_FILTER: {}), \
             so every INET socket would be refused; --no-kernel runs with preload only",
            describe(&e)
        );
        return Err(USAGE);
    }
    Ok(Some(policy))
}

/// Whether the rules of `config` are those an outer sockrun's supervisor
/// holds already, when sockrun runs under its kernel mode: its command's
/// environment carries the same rules.
fn held_by_outer(config: &Config) -> bool {
    let env_rule = |name: &str| env::var(name).ok().filter(|v| !v.is_empty());
    (config.allow.is_some() || config.deny.is_some())
        && config.allow == env_rule(rules::ALLOW_VAR)
        && config.deny == env_rule(rules::DENY_VAR)
}

/// The kernel mode as the user would look for it in a message: the option
/// that asked for it, or its name when sockrun picked it.
fn mode_name(asked: bool) -> &'static str {
    if asked { "--kernel" } else { "kernel mode" }
}

/// Whether sockrun itself runs under another sockrun's kernel mode: that
/// supervisor's token in the environment, and a seccomp filter on this
/// process (`Seccomp: 2`).
fn nested() -> bool {
    env::var_os(sock_core::supervised::VAR).is_some()
        && fs::read_to_string("/proc/self/status").is_ok_and(|status| {
            status
                .lines()
                .any(|l| l.strip_prefix("Seccomp:").is_some_and(|v| v.trim() == "2"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{scratch, touch};

    #[test]
    fn ld_preload_puts_libsock_first() {
        let lib = Path::new("/usr/lib/libsock.so.0");
        assert_eq!(ld_preload(lib, None), "/usr/lib/libsock.so.0");
        assert_eq!(
            ld_preload(lib, Some(OsStr::new(""))),
            "/usr/lib/libsock.so.0"
        );
        assert_eq!(
            ld_preload(lib, Some(OsStr::new("/a.so b.so"))),
            "/usr/lib/libsock.so.0:/a.so b.so"
        );
    }

    #[test]
    fn command_search_like_execvp() {
        let root = scratch("path");
        let (a, b) = (root.join("a"), root.join("b"));
        touch(&a.join("tool"), 0o644);
        touch(&b.join("tool"), 0o755);
        let path = OsString::from(format!("{}:{}", a.display(), b.display()));
        assert_eq!(
            resolve_command(OsStr::new("tool"), Some(&path)).unwrap(),
            b.join("tool")
        );
        let path_a = a.as_os_str();
        let err = resolve_command(OsStr::new("tool"), Some(path_a)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let err = resolve_command(OsStr::new("nope"), Some(&path)).unwrap_err();
        assert_eq!(
            (err.kind(), describe(&err).as_str()),
            (io::ErrorKind::NotFound, "command not found")
        );
        assert_eq!(
            resolve_command(OsStr::new(""), Some(&path))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
        // A directory is not a command.
        fs::create_dir_all(b.join("dir")).unwrap();
        assert!(resolve_command(OsStr::new("dir"), Some(&path)).is_err());
        // With a slash: as given, even if missing (exec reports it).
        assert_eq!(
            resolve_command(OsStr::new("./x/y"), None).unwrap(),
            Path::new("./x/y")
        );
        // An empty PATH entry is the current directory.
        let path = OsString::from(format!("{}:", a.display()));
        assert_eq!(
            resolve_command(OsStr::new("Cargo.toml"), Some(&path))
                .unwrap_err()
                .kind(),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(
            resolve_command(OsStr::new("sh"), None).unwrap(),
            Path::new("/bin/sh")
        );
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn exit_statuses_like_a_shell() {
        let name = OsStr::new("x");
        assert_eq!(
            exec_failure(name, &io::Error::from_raw_os_error(libc::ENOENT)),
            NOT_FOUND
        );
        assert_eq!(
            exec_failure(name, &io::Error::from_raw_os_error(libc::EACCES)),
            NOT_EXECUTABLE
        );
        assert_eq!(
            exec_failure(name, &io::Error::from_raw_os_error(libc::ENOEXEC)),
            NOT_EXECUTABLE
        );
        assert_eq!(
            describe(&io::Error::from_raw_os_error(libc::EACCES)),
            "Permission denied"
        );
    }
}
