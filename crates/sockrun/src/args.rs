//! sockrun's command line: its options (one per `LIBSOCK_*` variable, from
//! `sock_core::config::VARIABLES`), parsed with `lexopt`, and the variables
//! they set, checked with the library's own parser.
//!
//! Options end at `--` or at the first argument that is not one. lexopt
//! splits `--name=value`, takes a value from the next argument and stops at
//! `--`; what an argument looks like as written (for the messages, and to
//! refuse `-hV` or a non-UTF-8 option as a whole) is read before it parses it.

use sock_core::config::{self, FlagArg as Arg, Variable as Flag};
use sock_core::rules;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// One option per variable the library reads, in its table's order.
pub(crate) const FLAGS: &[Flag] = config::VARIABLES;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Help,
    Version,
    Run(Launch),
}

/// A command to run, and how.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Launch {
    /// The options given, in order (a later one wins).
    pub(crate) settings: Vec<(&'static Flag, String)>,
    /// `--lib=PATH`.
    pub(crate) lib: Option<OsString>,
    /// `--kernel` (Some(true): the kernel-enforced mode) or `--no-kernel`
    /// (Some(false): preload only), the last one given; None: the kernel
    /// mode when rules are set or a static target asks for anything.
    pub(crate) kernel: Option<bool>,
    /// COMMAND and its arguments (never empty once parsed).
    pub(crate) command: Vec<OsString>,
}

/// Parses sockrun's arguments (without argv[0]). Options end at `--` or at
/// the first argument that is not one; an error is a usage message.
pub(crate) fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Action, String> {
    let mut parser = lexopt::Parser::from_args(args);
    let mut launch = Launch::default();
    while let Some(written) = next_as_written(&mut parser)? {
        if is_option(&written) {
            let Some(text) = written.to_str() else {
                return Err(format!("unknown option: {}", written.to_string_lossy()));
            };
            match text {
                "-h" | "--help" => return Ok(Action::Help),
                "-V" | "--version" => return Ok(Action::Version),
                // Short options are -h and -V alone (no clusters, no values).
                _ if !text.starts_with("--") => return Err(format!("unknown option: {text}")),
                _ => {}
            }
        }
        let name = match parser.next().map_err(|e| e.to_string())? {
            None => break,
            Some(lexopt::Arg::Value(command)) => {
                launch.command.push(command);
                break;
            }
            Some(lexopt::Arg::Short(_)) => {
                return Err(format!("unknown option: {}", written.to_string_lossy()));
            }
            Some(lexopt::Arg::Long(name)) => name.to_string(),
        };
        let text = written.to_string_lossy();
        if name == "lib" {
            launch.lib = Some(required_value(&name, &mut parser)?);
        } else if name == "kernel" || name == "no-kernel" {
            if parser.optional_value().is_some() {
                return Err(format!("--{name} takes no value"));
            }
            launch.kernel = Some(name == "kernel");
        } else {
            // (--help=x and --version=x land here too: unknown.)
            let flag = FLAGS
                .iter()
                .find(|f| f.flag == name)
                .ok_or_else(|| format!("unknown option: {text}"))?;
            launch.settings.push((flag, flag_value(flag, &mut parser)?));
        }
    }
    launch
        .command
        .extend(parser.raw_args().map_err(|e| e.to_string())?);
    if launch.command.is_empty() {
        return Err("no command given".to_string());
    }
    Ok(Action::Run(launch))
}

/// The next argument as written, looked at between arguments (when no
/// value of the last option is pending).
fn next_as_written(parser: &mut lexopt::Parser) -> Result<Option<OsString>, String> {
    let rest = parser.raw_args().map_err(|e| e.to_string())?;
    Ok(rest.peek().map(OsStr::to_os_string))
}

/// `-x` and `--x`, but neither `-` alone nor `--`.
fn is_option(arg: &OsStr) -> bool {
    arg.as_bytes().starts_with(b"-") && arg.len() > 1 && arg != "--"
}

/// The value of an option that needs one: `--name=VALUE` or `--name VALUE`
/// (the next argument, whatever it looks like).
fn required_value(name: &str, parser: &mut lexopt::Parser) -> Result<OsString, String> {
    let value = parser
        .value()
        .map_err(|_| format!("--{name} needs a value"))?;
    not_empty(name, value)
}

fn not_empty(name: &str, value: OsString) -> Result<OsString, String> {
    if value.is_empty() {
        return Err(format!("--{name} needs a value, not an empty one"));
    }
    Ok(value)
}

/// The value a `LIBSOCK_*` option gives its variable.
fn flag_value(flag: &Flag, parser: &mut lexopt::Parser) -> Result<String, String> {
    let value = match flag.arg {
        Arg::Fixed(v) => match parser.optional_value() {
            Some(_) => return Err(format!("--{} takes no value", flag.flag)),
            None => return Ok(v.to_string()),
        },
        // An optional value is only ever inline: the next argument is not it.
        Arg::Optional(default) => match parser.optional_value() {
            Some(v) => not_empty(flag.flag, v)?,
            None => return Ok(default.to_string()),
        },
        Arg::Required => required_value(flag.flag, parser)?,
    };
    value.into_string().map_err(|v| {
        format!(
            "--{} {:?}: the value is not valid UTF-8",
            flag.flag,
            v.to_string_lossy()
        )
    })
}

/// The variables the options set (a later option wins), checked with the
/// library's own parser. `Err` holds one complaint per bad value.
pub(crate) fn variables(
    settings: &[(&'static Flag, String)],
    cwd: Option<&Path>,
) -> Result<BTreeMap<&'static str, String>, Vec<String>> {
    let mut vars = BTreeMap::new();
    for (flag, value) in settings {
        let value = if flag.file {
            absolute_output(value, cwd)
        } else {
            value.clone()
        };
        vars.insert(flag.name, value);
    }
    let (config, problems) = config::parse(|var| vars.get(var).cloned());
    let mut complaints: Vec<String> = problems.iter().map(complaint).collect();
    // Access rules are taken as written by the parser (the library fails
    // closed on a bad list rather than ignore it): they are judged as the
    // library builds them, both lists together, so a pair too large for the
    // kernel filter is refused here too.
    if let Err(e) = rules::Policy::new(config.allow.as_deref(), config.deny.as_deref()) {
        complaints.push(rules_complaint(&e, &vars));
    }
    if complaints.is_empty() {
        Ok(vars)
    } else {
        Err(complaints)
    }
}

/// `--deny "10.0.0.0/33": rule 1 …`: a rules problem, named by its option.
fn rules_complaint(e: &rules::PolicyError, vars: &BTreeMap<&'static str, String>) -> String {
    match FLAGS.iter().find(|f| f.name == e.var) {
        Some(flag) => format!(
            "--{} {:?}: {}",
            flag.flag,
            vars.get(flag.name).map_or("", String::as_str),
            e.message
        ),
        // Both lists together.
        None => format!("--allow and --deny together: {}", e.message),
    }
}

/// `--tos "fast": expected low-delay, …`: the problem, named by its option.
fn complaint(problem: &config::Problem) -> String {
    let name = FLAGS
        .iter()
        .find(|f| f.name == problem.var)
        .map_or(problem.var, |f| f.flag);
    format!(
        "--{name} {:?}: expected {}",
        problem.value, problem.expected
    )
}

/// An output value with a relative file path made absolute against `cwd`
/// (`1`, `stderr` and `0` are not paths).
pub(crate) fn absolute_output(value: &str, cwd: Option<&Path>) -> String {
    if matches!(value, "1" | "stderr" | "0") || Path::new(value).is_absolute() {
        return value.to_string();
    }
    cwd.and_then(|dir| dir.join(value).to_str().map(str::to_string))
        .unwrap_or_else(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn launch(args: &[&str]) -> Launch {
        match parse_args(os(args)) {
            Ok(Action::Run(launch)) => launch,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn settings(launch: &Launch) -> Vec<(&str, &str)> {
        launch
            .settings
            .iter()
            .map(|(f, v)| (f.name, v.as_str()))
            .collect()
    }

    fn error(args: &[&str]) -> String {
        parse_args(os(args)).expect_err(&format!("{args:?} parsed"))
    }

    #[test]
    fn options_then_command() {
        let l = launch(&[
            "--trace",
            "--nodelay",
            "--tos=low-delay",
            "--",
            "curl",
            "-s",
            "x",
        ]);
        assert_eq!(
            settings(&l),
            [
                ("LIBSOCK_TRACE", "stderr"),
                ("LIBSOCK_NODELAY", "1"),
                ("LIBSOCK_TOS", "low-delay")
            ]
        );
        assert_eq!(l.command, os(&["curl", "-s", "x"]));
        assert_eq!(l.lib, None);
    }

    #[test]
    fn command_without_double_dash() {
        let l = launch(&["--stats", "env", "--nodelay", "--", "x"]);
        assert_eq!(settings(&l), [("LIBSOCK_STATS", "1")]);
        assert_eq!(l.command, os(&["env", "--nodelay", "--", "x"]));
        // A lone "-" is not an option.
        assert_eq!(launch(&["-", "a"]).command, os(&["-", "a"]));
        // After "--", "--help" is the command.
        assert_eq!(launch(&["--", "--help"]).command, os(&["--help"]));
    }

    #[test]
    fn values_inline_or_next() {
        let l = launch(&[
            "--rcvbuf",
            "65536",
            "--sndbuf=1024",
            "--lib",
            "a.so",
            "true",
        ]);
        assert_eq!(
            settings(&l),
            [("LIBSOCK_RCVBUF", "65536"), ("LIBSOCK_SNDBUF", "1024")]
        );
        assert_eq!(l.lib, Some("a.so".into()));
        assert_eq!(launch(&["--lib=b.so", "true"]).lib, Some("b.so".into()));
        // An optional value is only ever inline: the next argument is the command.
        let l = launch(&["--trace", "prog", "--json"]);
        assert_eq!(settings(&l), [("LIBSOCK_TRACE", "stderr")]);
        assert_eq!(l.command, os(&["prog", "--json"]));
        let l = launch(&[
            "--trace=/tmp/t.%p",
            "--keepalive=30,5",
            "--json",
            "--keepalive",
            "p",
        ]);
        assert_eq!(
            settings(&l),
            [
                ("LIBSOCK_TRACE", "/tmp/t.%p"),
                ("LIBSOCK_KEEPALIVE", "30,5"),
                ("LIBSOCK_TRACE_FORMAT", "json"),
                ("LIBSOCK_KEEPALIVE", "1"),
            ]
        );
        // A value may contain '='.
        assert_eq!(
            settings(&launch(&["--trace=a=b", "p"])),
            [("LIBSOCK_TRACE", "a=b")]
        );
    }

    #[test]
    fn help_and_version_win_before_the_command() {
        assert_eq!(
            parse_args(os(&["--tos=bad", "--help", "x"])),
            Ok(Action::Help)
        );
        assert_eq!(parse_args(os(&["-h"])), Ok(Action::Help));
        assert_eq!(parse_args(os(&["--version"])), Ok(Action::Version));
        assert_eq!(parse_args(os(&["-V", "--frob"])), Ok(Action::Version));
    }

    #[test]
    fn usage_errors() {
        for (args, want) in [
            (&["--frob", "x"][..], "unknown option: --frob"),
            (&["--frob=1", "x"], "unknown option: --frob=1"),
            (&["-x", "true"], "unknown option: -x"),
            (&["--nodelay=1", "x"], "--nodelay takes no value"),
            (&["--json=yes", "x"], "--json takes no value"),
            (&["--tos"], "--tos needs a value"),
            (&["--tos=", "x"], "--tos needs a value, not an empty one"),
            (
                &["--trace=", "x"],
                "--trace needs a value, not an empty one",
            ),
            (&["--lib"], "--lib needs a value"),
            (&["--deny"], "--deny needs a value"),
            (&[], "no command given"),
            (&["--nodelay"], "no command given"),
            (&["--nodelay", "--"], "no command given"),
        ] {
            let got = error(args);
            assert!(got.starts_with(want), "{args:?}: {got}");
        }
    }

    #[test]
    fn options_as_written() {
        for (args, want) in [
            // Short options are -h and -V alone: no clusters, no values.
            (&["-hV", "x"][..], "unknown option: -hV"),
            (&["-Vh"], "unknown option: -Vh"),
            (&["-h=1"], "unknown option: -h=1"),
            (&["--help=1", "x"], "unknown option: --help=1"),
            (&["--version=", "x"], "unknown option: --version="),
            (&["--=x", "y"], "unknown option: --=x"),
            (&["---tos=1", "y"], "unknown option: ---tos=1"),
            (&["-1", "y"], "unknown option: -1"),
        ] {
            assert_eq!(error(args), want, "{args:?}");
        }
        // A required value is the next argument, whatever it looks like.
        let l = launch(&["--tos", "--", "--bind-addr", "-x", "cmd"]);
        assert_eq!(
            settings(&l),
            [("LIBSOCK_TOS", "--"), ("LIBSOCK_BIND_ADDR", "-x")]
        );
        assert_eq!(l.command, os(&["cmd"]));
        // A non-UTF-8 option is unknown as a whole, --lib=PATH included.
        let bad = OsString::from_vec(b"--lib=\xff".to_vec());
        assert_eq!(
            parse_args([bad, "x".into()]).unwrap_err(),
            "unknown option: --lib=\u{fffd}"
        );
    }

    #[test]
    fn non_utf8_values() {
        let bad = OsString::from_vec(b"\xff".to_vec());
        let err = parse_args([OsString::from("--tos"), bad.clone(), "x".into()]).unwrap_err();
        assert!(err.contains("not valid UTF-8"), "{err}");
        // A path needs no UTF-8, and neither does the command.
        let args = [OsString::from("--lib"), bad.clone(), bad.clone()];
        match parse_args(args) {
            Ok(Action::Run(l)) => assert_eq!((l.lib, l.command), (Some(bad.clone()), vec![bad])),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kernel_mode_the_last_one_wins() {
        assert_eq!(launch(&["x"]).kernel, None);
        assert_eq!(launch(&["--kernel", "x"]).kernel, Some(true));
        assert_eq!(
            launch(&["--kernel", "--no-kernel", "x"]).kernel,
            Some(false)
        );
        assert_eq!(
            launch(&["--no-kernel", "--kernel", "--deny=::1", "x"]).kernel,
            Some(true)
        );
        assert_eq!(error(&["--kernel=1", "x"]), "--kernel takes no value");
        assert_eq!(error(&["--no-kernel=", "x"]), "--no-kernel takes no value");
        // After the command it is the command's.
        assert_eq!(launch(&["x", "--kernel"]).kernel, None);
    }

    #[test]
    fn every_variable_has_an_option() {
        for flag in FLAGS {
            assert_eq!(
                flag.metavar.is_empty(),
                matches!(flag.arg, Arg::Fixed(_)),
                "{}",
                flag.flag
            );
        }
    }

    #[test]
    fn variables_later_option_wins() {
        let l = launch(&["--nodelay", "--tos=2", "--tos=low-cost", "--json", "x"]);
        let vars = variables(&l.settings, None).unwrap();
        let want: BTreeMap<&str, String> = [
            ("LIBSOCK_NODELAY", "1"),
            ("LIBSOCK_TOS", "low-cost"),
            ("LIBSOCK_TRACE_FORMAT", "json"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
        assert_eq!(vars, want);
    }

    #[test]
    fn bad_values_are_named_by_their_option() {
        let l = launch(&[
            "--tos=fast",
            "--nodelay",
            "--port-map",
            "80",
            "--rcvbuf=64k",
            "x",
        ]);
        let complaints = variables(&l.settings, None).unwrap_err();
        assert_eq!(complaints.len(), 3, "{complaints:?}");
        assert!(
            complaints[0].starts_with("--tos \"fast\": expected low-delay,"),
            "{complaints:?}"
        );
        assert!(
            complaints[1].starts_with("--rcvbuf \"64k\": expected a number"),
            "{complaints:?}"
        );
        assert!(
            complaints[2].starts_with("--port-map \"80\": expected FROM:TO"),
            "{complaints:?}"
        );
        // Fixed in a later option: fine.
        let l = launch(&["--tos=fast", "--tos=16", "x"]);
        assert!(variables(&l.settings, None).is_ok());
    }

    #[test]
    fn access_rules_are_judged_as_the_library_builds_them() {
        let l = launch(&["--allow=localhost:6379", "--deny", "10.0.0.0/8,::1", "x"]);
        let vars = variables(&l.settings, None).unwrap();
        assert_eq!(vars["LIBSOCK_ALLOW"], "localhost:6379");
        assert_eq!(vars["LIBSOCK_DENY"], "10.0.0.0/8,::1");
        for (args, want) in [
            (
                &["--deny=10.0.0.0/33", "x"][..],
                "--deny \"10.0.0.0/33\": rule 1 ",
            ),
            (
                &["--allow=localhost,", "x"],
                "--allow \"localhost,\": rule 2 ",
            ),
            (&["--allow=lcalhost", "x"], "--allow \"lcalhost\": rule 1 "),
        ] {
            let complaints = variables(&launch(args).settings, None).unwrap_err();
            assert_eq!(complaints.len(), 1, "{complaints:?}");
            assert!(complaints[0].starts_with(want), "{args:?}: {complaints:?}");
            assert!(complaints[0].contains("expected"), "{complaints:?}");
        }
    }

    #[test]
    fn output_files_are_made_absolute() {
        let cwd = Some(Path::new("/work/dir"));
        for (given, want) in [
            ("t.log", "/work/dir/t.log"),
            ("logs/t.%p", "/work/dir/logs/t.%p"),
            ("/abs/t", "/abs/t"),
            ("stderr", "stderr"),
            ("1", "1"),
            ("0", "0"),
        ] {
            assert_eq!(absolute_output(given, cwd), want);
            let l = launch(&[
                &format!("--trace={given}"),
                &format!("--stats={given}"),
                "x",
            ]);
            let vars = variables(&l.settings, cwd).unwrap();
            assert_eq!(
                (
                    vars["LIBSOCK_TRACE"].as_str(),
                    vars["LIBSOCK_STATS"].as_str()
                ),
                (want, want)
            );
        }
        assert_eq!(absolute_output("t.log", None), "t.log");
        // Not a file: untouched.
        let l = launch(&["--bind-addr=127.0.0.1", "x"]);
        assert_eq!(
            variables(&l.settings, cwd).unwrap()["LIBSOCK_BIND_ADDR"],
            "127.0.0.1"
        );
    }
}
