//! `sockrun --help`: every option with its variable, what it does and its
//! value's grammar, all from `sock_core::config::VARIABLES`; wrapped with
//! `textwrap`.

use crate::SYNOPSIS;
use crate::args::FLAGS;
use sock_core::config::{self, FlagArg as Arg, Variable as Flag};

use std::ffi::OsString;
use std::path::Path;

pub(crate) mod completion;
pub(crate) mod man;

/// Text from the help's first column.
const COLUMN: usize = 24;
/// The help's width.
const WIDTH: usize = 79;

/// `text` in lines of at most `WIDTH` columns, each indented by `indent`:
/// words are never broken (nor split at their hyphens), runs of white space
/// are one space, and no text is no line.
fn wrap(text: &str, indent: usize) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        return String::new();
    }
    let pad = " ".repeat(indent);
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(&pad)
        .subsequent_indent(&pad)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    let mut out = textwrap::fill(&words, options);
    out.push('\n');
    out
}

/// The value grammar of `var`, as the library documents it.
fn grammar(var: &str) -> Option<&'static str> {
    config::variable(var).map(|v| v.expected)
}

/// `--trace[=FILE]`, `--tos=TOS`, `--nodelay`.
fn flag_synopsis(flag: &Flag) -> String {
    match flag.arg {
        Arg::Fixed(_) => format!("--{}", flag.flag),
        Arg::Optional(_) => format!("--{}[={}]", flag.flag, flag.metavar),
        Arg::Required => format!("--{}={}", flag.flag, flag.metavar),
    }
}

/// `LIBSOCK_TRACE=stderr | FILE`, `LIBSOCK_TOS=TOS`, `LIBSOCK_NODELAY=1`.
fn flag_setting(flag: &Flag) -> String {
    match flag.arg {
        Arg::Fixed(value) => format!("{}={value}", flag.name),
        Arg::Optional(default) => format!("{}={default} | {}", flag.name, flag.metavar),
        Arg::Required => format!("{}={}", flag.name, flag.metavar),
    }
}

/// One option in the help: synopsis, variable, what it does, its grammar.
fn flag_help(flag: &Flag) -> String {
    let mut text = format!(
        "  {:<w$}{}\n",
        flag_synopsis(flag),
        flag_setting(flag),
        w = COLUMN - 2
    );
    text.push_str(&wrap(flag.help, COLUMN));
    if let (false, Some(grammar)) = (flag.metavar.is_empty(), grammar(flag.name)) {
        text.push_str(&wrap(&format!("{}: {grammar}", flag.metavar), COLUMN));
    }
    text
}

/// The whole `--help` text; `exe_dir` is where sockrun looks for libsock.
pub(crate) fn help(exe_dir: Option<&Path>) -> String {
    let mut text = format!(
        "sockrun {}: run a command with libsock.so preloaded\n\n{SYNOPSIS}\n\n",
        env!("CARGO_PKG_VERSION")
    );
    text.push_str(&wrap(DESCRIPTION, 0));
    text.push_str("\nOptions (each sets one variable in the command's environment):\n");
    for flag in FLAGS {
        text.push_str(&flag_help(flag));
    }
    text.push_str("\nOther options:\n");
    for option in OPTIONS {
        text.push_str(&format!("  {:<w$}", option.synopsis(), w = COLUMN - 2));
        text.push_str(wrap(option.help, COLUMN).trim_start());
    }
    text.push_str(&library_help(exe_dir));
    text.push('\n');
    text.push_str(&wrap(WARNINGS, 0));
    text.push_str(&exit_and_examples());
    text
}

/// What sockrun does (the help's and the man page's description).
pub(crate) const DESCRIPTION: &str = "Puts libsock.so first in LD_PRELOAD (after it, what LD_PRELOAD held already), sets \
     the LIBSOCK_* variable of each option given, and execs COMMAND, searched in PATH: an \
     unmodified program then traces its socket calls, gets socket options it never set, \
     or binds where it is told. Every option is checked before anything runs. Variables \
     already in the environment are passed on as they are unless an option sets them. \
     Options end at \"--\" or at the first argument that is not an option; a value can \
     follow as --tos=TOS or --tos TOS, except where it is optional ([=VALUE]).";

/// When sockrun warns (the help, and the man page's DIAGNOSTICS).
pub(crate) const WARNINGS: &str = "Warnings (one line on stderr; the command still runs) when libsock cannot get into \
     the command: a statically linked binary (no program interpreter) outside the kernel \
     mode; a setuid or setgid binary (run with raised privileges, \
     the loader ignores LD_PRELOAD paths and libsock ignores LIBSOCK_*; under --kernel it \
     runs without its privileges); a binary for another machine or word size than \
     libsock.so. Scripts (#!) are not checked.";

/// One of sockrun's own options (the rest set a variable each: `FLAGS`).
pub(crate) struct Own {
    /// The short form, e.g. `-h` (empty if none).
    pub(crate) short: &'static str,
    /// The long form without its dashes, e.g. `lib`.
    pub(crate) long: &'static str,
    /// Its value's name (empty if it takes none).
    pub(crate) metavar: &'static str,
    /// What it does.
    pub(crate) help: &'static str,
}

impl Own {
    /// `-h, --help`, `--lib=PATH`.
    pub(crate) fn synopsis(&self) -> String {
        let long = match self.metavar {
            "" => format!("--{}", self.long),
            metavar => format!("--{}={metavar}", self.long),
        };
        match self.short {
            "" => long,
            short => format!("{short}, {long}"),
        }
    }
}

/// sockrun's own options, for its help, its man page and the shell
/// completions alike (the parser, `args::parse_args`, accepts each).
pub(crate) const OPTIONS: &[Own] = &[
    Own {
        short: "",
        long: "lib",
        metavar: "PATH",
        help: "The libsock.so to preload (see below).",
    },
    Own {
        short: "",
        long: "kernel",
        metavar: "",
        help: "The kernel-enforced mode, always: COMMAND runs under a seccomp filter and \
               sockrun stays its parent, answering its socket, connect, sendto (with an \
               address), sendmsg and sendmmsg calls itself, so the access rules (--allow, \
               --deny) hold for static binaries, raw system calls and glibc's resolver too; \
               io_uring_setup fails with ENOSYS, raw and packet sockets with EPERM under \
               rules, other system-call ABIs are killed. sockrun traces and counts the calls \
               it answers (a call a preloaded libsock traced is not traced twice) and sets \
               the socket options asked for on the sockets it creates (and rewrites binds \
               for --bind-addr and --port-map). A daemon the command leaves behind stays \
               supervised after sockrun exits. Without --kernel or \
               --no-kernel the mode is on whenever access rules are set (any COMMAND: a \
               script may start a static binary) and for a static COMMAND asking for \
               tracing, stats or socket options. Needs Linux 5.14 (seccomp user \
               notification with ADDFD, pidfd_getfd); without it, with rules sockrun exits 2, \
               without rules it warns and runs preloaded only.",
    },
    Own {
        short: "",
        long: "no-kernel",
        metavar: "",
        help: "Preload only, even with access rules (they then hold only for what goes \
               through libsock); the last of --kernel and --no-kernel wins.",
    },
    Own {
        short: "-h",
        long: "help",
        metavar: "",
        help: "This help.",
    },
    Own {
        short: "-V",
        long: "version",
        metavar: "",
        help: "sockrun's version.",
    },
];

/// How sockrun finds libsock.so (the help's and the man page's FILES).
pub(crate) const LIBRARY_INTRO: &str = "the first of these that exists. LD_PRELOAD gets it \
     as an absolute path (its directory canonicalized; a link such as libsock.so.0 keeps its \
     name); the current directory is never searched.";

/// Where sockrun looks for libsock.so, in order (DIR: sockrun's directory).
pub(crate) const LIBRARY_ORDER: &[&str] = &[
    "--lib=PATH, else $LIBSOCK_LIB (it must exist; a relative path is fine)",
    "beside sockrun: DIR/libsock.so, DIR/libsock.so.0",
    "the install prefix: DIR/../lib/libsock.so.0, DIR/../lib/libsock.so",
    "the Python wheel's: DIR/../lib/python3*/site-packages/libsock/libsock.so",
];

/// The help's section on finding libsock.so.
fn library_help(exe_dir: Option<&Path>) -> String {
    let here = exe_dir.map_or("(unknown)".to_string(), |d| d.display().to_string());
    let mut text = String::from("\n");
    text.push_str(&wrap(&format!("Finding libsock.so: {LIBRARY_INTRO}"), 0));
    for (i, place) in LIBRARY_ORDER.iter().enumerate() {
        text.push_str(&format!("  {}. {place}\n", i + 1));
    }
    text.push_str(&format!(
        "DIR is the directory of the sockrun executable, here:\n  {here}\n"
    ));
    text
}

/// sockrun's exit statuses: (status, meaning).
pub(crate) const EXIT_STATUSES: &[(&str, &str)] = &[
    (
        "the command's own",
        "sockrun execs COMMAND, so its status is the command's (under --kernel sockrun \
         waits for it: the same status; a death by a signal kills sockrun alike)",
    ),
    (
        "2",
        "a bad option or value (nothing runs), no COMMAND, no usable libsock.so, or \
         --kernel with rules where the kernel cannot (one line naming what it lacks)",
    ),
    ("126", "COMMAND found but not executable"),
    ("127", "COMMAND not found"),
];

/// How a bad value is reported.
pub(crate) const BAD_VALUE: &str =
    "sockrun: --tos \"fast\": expected low-delay, throughput, reliability, ...";

/// Command lines, for the help and the man page.
pub(crate) const EXAMPLES: &[&str] = &[
    "sockrun --trace -- curl -s http://example.com/",
    "sockrun --trace=/tmp/trace.%p --json -- python3 -m http.server 8000",
    "sockrun --stats --nodelay --keepalive=60,10,5 -- redis-server",
    "sockrun --reuseaddr --bind-addr=127.0.0.1 --port-map=80:8080 -- ./server",
    "sockrun --kernel --allow=localhost -- ./static-go-binary",
];

/// The help's exit statuses and examples.
fn exit_and_examples() -> String {
    let mut text = String::from("\nExit status:\n");
    for (status, meaning) in EXIT_STATUSES {
        text.push_str(&format!("  {status:<w$}", w = COLUMN - 2));
        text.push_str(wrap(meaning, COLUMN).trim_start());
    }
    text.push_str(&format!(
        "\nA bad value is one line per option, e.g.\n  {BAD_VALUE}\n\nExamples:\n"
    ));
    for example in EXAMPLES {
        text.push_str(&format!("  {example}\n"));
    }
    text
}

/// The hidden modes that print generated documentation, when `args` (without
/// argv[0]) start with one: `--print-man PAGE [DATE]` (`sockrun.1`,
/// `libsock.7`) and `--print-completion SHELL` (`bash`, `zsh`, `fish`).
/// `make man` runs them; they are not options, so `--help` does not list them.
pub(crate) fn docs(args: &[OsString]) -> Option<Result<String, String>> {
    let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("")).collect();
    match args.as_slice() {
        ["--print-man", page] | ["--print-man", page, _] => {
            let date = args.get(2).copied().unwrap_or("");
            Some(man::page(page, date).ok_or_else(|| {
                format!(
                    "--print-man: no page {page:?} (one of {})",
                    man::PAGES.join(", ")
                )
            }))
        }
        ["--print-completion", shell] => Some(completion::script(shell).ok_or_else(|| {
            format!(
                "--print-completion: no shell {shell:?} (one of {})",
                completion::SHELLS.join(", ")
            )
        })),
        ["--print-man" | "--print-completion", ..] => {
            Some(Err(format!("{} takes one name", args[0])))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_documents_everything() {
        let text = help(Some(Path::new("/opt/x/bin")));
        for flag in FLAGS {
            assert!(text.contains(&flag_synopsis(flag)), "{}", flag.flag);
            assert!(text.contains(flag.name), "{}", flag.name);
        }
        // Each value's grammar, whole (the help wraps it).
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for flag in FLAGS.iter().filter(|f| !f.metavar.is_empty()) {
            let grammar = grammar(flag.name).unwrap();
            let line = format!("{}: {grammar}", flag.metavar);
            assert!(words.contains(&line), "{line}");
        }
        for needle in [
            "--lib=PATH",
            "--kernel",
            "--no-kernel",
            "seccomp",
            "LIBSOCK_LIB",
            "LD_PRELOAD",
            "/opt/x/bin",
            "126",
            "127",
            "Examples",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line}");
        }
    }

    #[test]
    fn own_options_are_the_parsers() {
        // Each option the help, the man page and the completions list is
        // one the parser takes, in the form they show.
        for option in OPTIONS {
            let mut args: Vec<OsString> = match option.metavar {
                "" => vec![format!("--{}", option.long).into()],
                _ => vec![format!("--{}=x", option.long).into()],
            };
            args.push("true".into());
            assert!(
                crate::args::parse_args(args).is_ok(),
                "--{} is not parsed",
                option.long
            );
            if let Some(short) = option.short.strip_prefix('-') {
                let args = vec![format!("-{short}").into(), "true".into()];
                assert!(crate::args::parse_args(args).is_ok(), "-{short}");
            }
        }
    }

    #[test]
    fn hidden_modes() {
        let os = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(docs(&os(&["--print-man", "sockrun.1"])).unwrap().is_ok());
        assert!(
            docs(&os(&["--print-man", "libsock.7", "2026-01-01"]))
                .unwrap()
                .is_ok()
        );
        assert!(docs(&os(&["--print-completion", "zsh"])).unwrap().is_ok());
        assert!(docs(&os(&["--print-man", "x.1"])).unwrap().is_err());
        assert!(docs(&os(&["--print-completion"])).unwrap().is_err());
        // Anywhere but first, or after "--", it is not the mode.
        assert!(docs(&os(&["--nodelay", "--print-man", "sockrun.1"])).is_none());
        assert!(docs(&os(&["--", "--print-man", "sockrun.1"])).is_none());
    }

    #[test]
    fn wrap_fits_the_width() {
        let text = wrap(&"word ".repeat(40), 24);
        assert!(
            text.lines()
                .all(|l| l.len() <= WIDTH && l.starts_with(&" ".repeat(24)))
        );
        assert_eq!(wrap("a b", 2), "  a b\n");
        assert_eq!(wrap("", 2), "");
    }
}
