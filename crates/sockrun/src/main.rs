//! `sockrun`: runs a command with `libsock.so` preloaded and the `LIBSOCK_*`
//! variables its options ask for.
//!
//! Every option is checked with the library's own parser (`sock_core::config`)
//! before anything runs. sockrun then finds `libsock.so` (never in the
//! current directory), puts it first in `LD_PRELOAD`, warns when the command
//! cannot be interposed (a static or setuid/setgid binary), and execs the
//! command, whose exit status is therefore its own.

// clippy.toml bans `std::fs::File` and friends because inside libsock they
// would call libsock's own exports (`close`, …). sockrun is an ordinary
// program that execs its command and is never interposed, so the rule does
// not apply to it.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use sock_core::config::{self, FlagArg as Arg, Variable as Flag};

use std::collections::BTreeMap;
use std::env;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Command};

/// Exit status of a usage error, a bad value or a missing library.
const USAGE: i32 = 2;
/// Exit status when the command was found but cannot be executed.
const NOT_EXECUTABLE: i32 = 126;
/// Exit status when the command was not found.
const NOT_FOUND: i32 = 127;

const SYNOPSIS: &str = "Usage: sockrun [OPTIONS] [--] COMMAND [ARGS...]";

// ---------------------------------------------------------------------------
// The options
// ---------------------------------------------------------------------------

/// One option per variable the library reads, in its table's order.
const FLAGS: &[Flag] = config::VARIABLES;

/// Options the specification plans for a later issue: refused clearly.
const PLANNED: &[&str] = &["allow", "deny"];

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    Help,
    Version,
    Run(Launch),
}

/// A command to run, and how.
#[derive(Debug, Default, PartialEq, Eq)]
struct Launch {
    /// The options given, in order (a later one wins).
    settings: Vec<(&'static Flag, String)>,
    /// `--lib=PATH`.
    lib: Option<OsString>,
    /// COMMAND and its arguments (never empty once parsed).
    command: Vec<OsString>,
}

/// Parses sockrun's arguments (without argv[0]). Options end at `--` or at
/// the first argument that is not one; an error is a usage message.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Action, String> {
    let mut args = args.into_iter();
    let mut launch = Launch::default();
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if !is_option(&arg) {
            launch.command.push(arg);
            break;
        }
        let Some(text) = arg.to_str() else {
            return Err(format!("unknown option: {}", arg.to_string_lossy()));
        };
        match text {
            "-h" | "--help" => return Ok(Action::Help),
            "-V" | "--version" => return Ok(Action::Version),
            _ => {}
        }
        let (name, inline) = split_option(text)?;
        if name == "lib" {
            launch.lib = Some(required_value(name, inline, &mut args)?);
        } else if PLANNED.contains(&name) {
            return Err(format!(
                "--{name} is not yet supported (planned for a later version)"
            ));
        } else {
            let flag = FLAGS
                .iter()
                .find(|f| f.flag == name)
                .ok_or_else(|| format!("unknown option: {text}"))?;
            launch
                .settings
                .push((flag, flag_value(flag, inline, &mut args)?));
        }
    }
    launch.command.extend(args);
    if launch.command.is_empty() {
        return Err("no command given".to_string());
    }
    Ok(Action::Run(launch))
}

/// `-x` and `--x`, but not `-` alone.
fn is_option(arg: &OsStr) -> bool {
    arg.as_bytes().starts_with(b"-") && arg.len() > 1
}

/// `--name=value` into its name and value; `--name` has no value.
fn split_option(text: &str) -> Result<(&str, Option<&str>), String> {
    let long = text
        .strip_prefix("--")
        .ok_or_else(|| format!("unknown option: {text}"))?;
    Ok(match long.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (long, None),
    })
}

/// The value of an option that needs one: `--name=VALUE` or `--name VALUE`.
fn required_value(
    name: &str,
    inline: Option<&str>,
    rest: &mut impl Iterator<Item = OsString>,
) -> Result<OsString, String> {
    let value = match inline {
        Some(v) => OsString::from(v),
        None => rest
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?,
    };
    if value.is_empty() {
        return Err(format!("--{name} needs a value, not an empty one"));
    }
    Ok(value)
}

/// The value a `LIBSOCK_*` option gives its variable.
fn flag_value(
    flag: &Flag,
    inline: Option<&str>,
    rest: &mut impl Iterator<Item = OsString>,
) -> Result<String, String> {
    let value = match (flag.arg, inline) {
        (Arg::Fixed(_), Some(_)) => return Err(format!("--{} takes no value", flag.flag)),
        (Arg::Fixed(v) | Arg::Optional(v), None) => return Ok(v.to_string()),
        (Arg::Optional(_) | Arg::Required, _) => required_value(flag.flag, inline, rest)?,
    };
    value.into_string().map_err(|v| {
        format!(
            "--{} {:?}: the value is not valid UTF-8",
            flag.flag,
            v.to_string_lossy()
        )
    })
}

// ---------------------------------------------------------------------------
// The variables
// ---------------------------------------------------------------------------

/// The variables the options set (a later option wins), checked with the
/// library's own parser. `Err` holds one complaint per bad value.
fn variables(
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
    let (_, problems) = config::parse(|var| vars.get(var).cloned());
    if problems.is_empty() {
        Ok(vars)
    } else {
        Err(problems.iter().map(complaint).collect())
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
fn absolute_output(value: &str, cwd: Option<&Path>) -> String {
    if matches!(value, "1" | "stderr" | "0") || Path::new(value).is_absolute() {
        return value.to_string();
    }
    cwd.and_then(|dir| dir.join(value).to_str().map(str::to_string))
        .unwrap_or_else(|| value.to_string())
}

/// `LD_PRELOAD` with `lib` first and what was there already after it.
fn ld_preload(lib: &Path, existing: Option<&OsStr>) -> OsString {
    let mut value = lib.as_os_str().to_os_string();
    if let Some(rest) = existing.filter(|v| !v.is_empty()) {
        value.push(":");
        value.push(rest);
    }
    value
}

// ---------------------------------------------------------------------------
// Finding libsock.so
// ---------------------------------------------------------------------------

/// Where sockrun looks for the library, beside itself, then in its install
/// prefix, then in a Python wheel's package in that prefix.
fn library_candidates(exe_dir: &Path) -> Vec<PathBuf> {
    let mut places = vec![exe_dir.join("libsock.so"), exe_dir.join("libsock.so.0")];
    if let Some(prefix) = exe_dir.parent() {
        places.push(prefix.join("lib/libsock.so.0"));
        places.push(prefix.join("lib/libsock.so"));
        places.extend(wheel_candidates(prefix));
    }
    places
}

/// The library the `libsock` wheel bundles: pip puts `sockrun` in
/// PREFIX/bin and the package in PREFIX/lib/python3.X/site-packages/libsock/
/// (dist-packages for Debian's own Python), in a venv, a `--user` or a
/// system install alike. One candidate per python3* directory that exists,
/// in name order; any of them will do, the library does not depend on the
/// Python version.
fn wheel_candidates(prefix: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(prefix.join("lib")) else {
        return Vec::new();
    };
    let mut pythons: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().as_bytes().starts_with(b"python3"))
        .map(|e| e.path())
        .collect();
    pythons.sort();
    pythons
        .iter()
        .flat_map(|python| {
            ["site-packages", "dist-packages"]
                .map(|packages| python.join(packages).join("libsock/libsock.so"))
        })
        .filter(|lib| lib.parent().is_some_and(Path::is_dir))
        .collect()
}

/// The library to preload, as a canonical absolute path: the explicit one
/// (`(source, path)`, from `--lib` or `LIBSOCK_LIB`), else the first
/// candidate beside `exe_dir` that exists.
fn find_library(
    explicit: Option<(&str, &OsStr)>,
    exe_dir: Option<&Path>,
) -> Result<PathBuf, String> {
    if let Some((source, path)) = explicit {
        let path = Path::new(path);
        return existing_file(path).map_err(|e| format!("{source}={}: {e}", path.display()));
    }
    let Some(exe_dir) = exe_dir else {
        return Err(NO_EXE_DIR.to_string());
    };
    let tried = library_candidates(exe_dir);
    if let Some(found) = tried.iter().find(|p| p.is_file()) {
        return existing_file(found).map_err(|e| format!("{}: {e}", found.display()));
    }
    let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "libsock.so not found; tried {}; give it with --lib=PATH or LIBSOCK_LIB",
        tried.join(", ")
    ))
}

const NO_EXE_DIR: &str = "libsock.so not found: cannot tell where sockrun is \
                          (/proc/self/exe); give it with --lib=PATH or LIBSOCK_LIB";

/// `path`, if it is a regular file, made absolute: its directory
/// canonicalized (no relative part, no `..`, no symlinked directory), its
/// file name kept, so a SONAME link such as `libsock.so.0` stays the name
/// in `LD_PRELOAD` and an upgrade of the library reaches later children.
fn existing_file(path: &Path) -> Result<PathBuf, String> {
    let absolute = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            fs::canonicalize(dir).map_err(|e| describe(&e))?.join(name)
        }
        _ => fs::canonicalize(path).map_err(|e| describe(&e))?,
    };
    match fs::metadata(&absolute) {
        Ok(meta) if meta.is_file() => Ok(absolute),
        Ok(_) => Err("not a regular file".to_string()),
        Err(e) => Err(describe(&e)),
    }
}

/// The library's ELF identity, once it is known to be preloadable.
fn check_library(lib: &Path) -> Result<Elf, String> {
    if lib
        .as_os_str()
        .as_bytes()
        .iter()
        .any(|b| matches!(b, b':' | b' '))
    {
        return Err(format!(
            "{}: LD_PRELOAD cannot carry a path with ':' or ' '",
            lib.display()
        ));
    }
    let elf = File::open(lib)
        .and_then(read_elf)
        .map_err(|e| format!("{}: {}", lib.display(), describe(&e)))?;
    match elf {
        Some(elf) if elf.e_type == ET_DYN && elf.dynamic => Ok(elf),
        _ => Err(format!("{}: not an ELF shared library", lib.display())),
    }
}

/// The library `launch` asks for (`--lib`, else `LIBSOCK_LIB`), or the one
/// beside sockrun.
fn library(launch: &Launch) -> Result<(PathBuf, Elf), String> {
    let from_env = env::var_os("LIBSOCK_LIB").filter(|v| !v.is_empty());
    let explicit = match (&launch.lib, &from_env) {
        (Some(path), _) => Some(("--lib", path.as_os_str())),
        (None, Some(path)) => Some(("LIBSOCK_LIB", path.as_os_str())),
        (None, None) => None,
    };
    let lib = find_library(explicit, exe_dir().as_deref())?;
    let elf = check_library(&lib)?;
    Ok((lib, elf))
}

/// The directory of the running sockrun executable.
fn exe_dir() -> Option<PathBuf> {
    env::current_exe().ok()?.parent().map(Path::to_path_buf)
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

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
fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Why libsock will not get into `program` (one line each, no prefix).
fn interposition_warnings(program: &Path, lib: &Elf) -> Vec<String> {
    // Only a regular file is looked into (opening a FIFO could block).
    let Some(mode) = fs::metadata(program)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions().mode())
    else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    let shown = program.display();
    if let Some(bits) = privilege_bits(mode) {
        warnings.push(format!(
            "{shown} is {bits}: run with raised privileges, the loader ignores LD_PRELOAD \
             paths and libsock ignores LIBSOCK_* (running it anyway)"
        ));
    }
    match File::open(program).and_then(read_elf) {
        Ok(Some(elf)) if !elf.interp => warnings.push(format!(
            "{shown} is statically linked (no program interpreter): libsock cannot be \
             preloaded into it (running it anyway)"
        )),
        Ok(Some(elf)) if !elf.same_machine(lib) => warnings.push(format!(
            "{shown} is built for another machine or word size than libsock.so: the loader \
             will skip libsock (running it anyway)"
        )),
        _ => {}
    }
    warnings
}

/// "setuid", "setgid" or both, from a file's mode.
fn privilege_bits(mode: u32) -> Option<&'static str> {
    match (mode & 0o4000 != 0, mode & 0o2000 != 0) {
        (true, true) => Some("setuid and setgid"),
        (true, false) => Some("setuid"),
        (false, true) => Some("setgid"),
        (false, false) => None,
    }
}

/// Validates, finds the library, and execs the command: returns only on
/// failure, with the exit status.
fn launch_command(launch: &Launch) -> i32 {
    let cwd = env::current_dir().ok();
    let vars = match variables(&launch.settings, cwd.as_deref()) {
        Ok(vars) => vars,
        Err(complaints) => {
            for complaint in complaints {
                eprintln!("sockrun: {complaint}");
            }
            return USAGE;
        }
    };
    let (lib, lib_elf) = match library(launch) {
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
    for warning in interposition_warnings(&program, &lib_elf) {
        eprintln!("sockrun: warning: {warning}");
    }
    let err = Command::new(&program)
        .arg0(name)
        .args(&launch.command[1..])
        .envs(&vars)
        .env(
            "LD_PRELOAD",
            ld_preload(&lib, env::var_os("LD_PRELOAD").as_deref()),
        )
        .exec();
    exec_failure(name, &err)
}

// ---------------------------------------------------------------------------
// ELF headers
// ---------------------------------------------------------------------------

const ET_DYN: u16 = 3;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
/// `e_phnum` saying the real count lives elsewhere (never in practice).
const PN_XNUM: usize = 0xffff;
/// The largest program header table read (real ones are a few hundred bytes).
const MAX_TABLE: usize = 64 * 1024;

/// What the ELF header and program headers say about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Elf {
    /// EI_CLASS: 1 for 32-bit, 2 for 64-bit.
    class: u8,
    /// EI_DATA: 1 little-endian, 2 big-endian.
    data: u8,
    e_type: u16,
    machine: u16,
    /// A PT_INTERP segment: the dynamic loader runs it (and preloads).
    interp: bool,
    /// A PT_DYNAMIC segment.
    dynamic: bool,
}

impl Elf {
    /// Whether a library built like `other` can be loaded into this.
    fn same_machine(&self, other: &Elf) -> bool {
        (self.class, self.data, self.machine) == (other.class, other.data, other.machine)
    }
}

/// The fields of an ELF file header that sockrun needs.
struct Header {
    class: u8,
    data: u8,
    e_type: u16,
    machine: u16,
    phoff: u64,
    phentsize: usize,
    phnum: usize,
}

/// Fixed-size integers at offsets in a byte slice, in the file's byte order.
struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let a = self.array(at)?;
        Some(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let a = self.array(at)?;
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn u64(&self, at: usize) -> Option<u64> {
        let a = self.array(at)?;
        Some(if self.big_endian {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }
}

/// The ELF file header at the start of `bytes`; None if it is not one.
fn parse_header(bytes: &[u8]) -> Option<Header> {
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    let (class, data) = (*bytes.get(4)?, *bytes.get(5)?);
    let big_endian = match data {
        1 => false,
        2 => true,
        _ => return None,
    };
    let r = Reader { bytes, big_endian };
    // (e_phoff, e_phentsize, e_phnum, smallest valid e_phentsize)
    let (phoff, phentsize, phnum, min_entsize) = match class {
        1 => (u64::from(r.u32(28)?), r.u16(42)?, r.u16(44)?, 32),
        2 => (r.u64(32)?, r.u16(54)?, r.u16(56)?, 56),
        _ => return None,
    };
    let (phentsize, phnum) = (usize::from(phentsize), usize::from(phnum));
    if phentsize < min_entsize || phnum == PN_XNUM || phentsize * phnum > MAX_TABLE {
        return None;
    }
    Some(Header {
        class,
        data,
        e_type: r.u16(16)?,
        machine: r.u16(18)?,
        phoff,
        phentsize,
        phnum,
    })
}

/// The `p_type` of each program header in `table`.
fn segment_types(header: &Header, table: &[u8]) -> Vec<u32> {
    table
        .chunks_exact(header.phentsize)
        .filter_map(|entry| {
            Reader {
                bytes: entry,
                big_endian: header.data == 2,
            }
            .u32(0)
        })
        .collect()
}

/// Reads the ELF header and program headers of `file`: `None` if it is
/// not ELF (a script, say), an error if it is cut short or unreadable.
fn read_elf(mut file: impl Read + Seek) -> io::Result<Option<Elf>> {
    let mut head = Vec::with_capacity(64);
    file.by_ref().take(64).read_to_end(&mut head)?;
    let Some(header) = parse_header(&head) else {
        return Ok(None);
    };
    let mut table = vec![0; header.phentsize * header.phnum];
    file.seek(SeekFrom::Start(header.phoff))?;
    file.read_exact(&mut table)?;
    let types = segment_types(&header, &table);
    Ok(Some(Elf {
        class: header.class,
        data: header.data,
        e_type: header.e_type,
        machine: header.machine,
        interp: types.contains(&PT_INTERP),
        dynamic: types.contains(&PT_DYNAMIC),
    }))
}

// ---------------------------------------------------------------------------
// Help, version, main
// ---------------------------------------------------------------------------

/// Text from the help's first column.
const COLUMN: usize = 24;
/// The help's width.
const WIDTH: usize = 79;

/// `text` in lines of at most `WIDTH` columns, each indented by `indent`.
fn wrap(text: &str, indent: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > WIDTH {
            out.push_str(&format!("{:indent$}{line}\n", ""));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{:indent$}{line}\n", ""));
    }
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
fn help(exe_dir: Option<&Path>) -> String {
    let mut text = format!(
        "sockrun {}: run a command with libsock.so preloaded\n\n{SYNOPSIS}\n\n",
        env!("CARGO_PKG_VERSION")
    );
    text.push_str(&wrap(
        "Puts libsock.so first in LD_PRELOAD (after it, what LD_PRELOAD held already), sets \
         the LIBSOCK_* variable of each option given, and execs COMMAND, searched in PATH: an \
         unmodified program then traces its socket calls, gets socket options it never set, \
         or binds where it is told. Every option is checked before anything runs. Variables \
         already in the environment are passed on as they are unless an option sets them. \
         Options end at \"--\" or at the first argument that is not an option; a value can \
         follow as --tos=TOS or --tos TOS, except where it is optional ([=VALUE]).",
        0,
    ));
    text.push_str("\nOptions (each sets one variable in the command's environment):\n");
    for flag in FLAGS {
        text.push_str(&flag_help(flag));
    }
    text.push_str(&format!(
        "\nOther options:\n  {:<w$}The libsock.so to preload (see below).\n  \
         {:<w$}This help.\n  {:<w$}sockrun's version.\n",
        "--lib=PATH",
        "-h, --help",
        "-V, --version",
        w = COLUMN - 2
    ));
    text.push_str(&library_help(exe_dir));
    text.push('\n');
    text.push_str(&wrap(
        "Warnings (one line on stderr; the command still runs) when libsock cannot get into \
         the command: a statically linked binary (no program interpreter); a setuid or setgid \
         binary (run with raised privileges, the loader ignores LD_PRELOAD paths and libsock \
         ignores LIBSOCK_*); a binary for another machine or word size than libsock.so. \
         Scripts (#!) are not checked.",
        0,
    ));
    text.push_str(EXIT_AND_EXAMPLES);
    text
}

/// The help's section on finding libsock.so.
fn library_help(exe_dir: Option<&Path>) -> String {
    let here = exe_dir.map_or("(unknown)".to_string(), |d| d.display().to_string());
    format!(
        "\nFinding libsock.so: the first of these that exists. LD_PRELOAD gets it as an\n\
         absolute path (its directory canonicalized; a link such as libsock.so.0 keeps\n\
         its name); the current directory is never searched.\n  \
         1. --lib=PATH, else $LIBSOCK_LIB (it must exist; a relative path is fine)\n  \
         2. beside sockrun: DIR/libsock.so, DIR/libsock.so.0\n  \
         3. the install prefix: DIR/../lib/libsock.so.0, DIR/../lib/libsock.so\n  \
         4. the Python wheel's: DIR/../lib/python3*/site-packages/libsock/libsock.so\n\
         DIR is the directory of the sockrun executable, here:\n  {here}\n"
    )
}

const EXIT_AND_EXAMPLES: &str = "
Exit status:
  the command's own     sockrun execs COMMAND, so its status is the command's
  2                     a bad option or value (nothing runs), no COMMAND, or no
                        usable libsock.so
  126                   COMMAND found but not executable
  127                   COMMAND not found

A bad value is one line per option, e.g.
  sockrun: --tos \"fast\": expected low-delay, throughput, reliability, ...

Examples:
  sockrun --trace -- curl -s http://example.com/
  sockrun --trace=/tmp/trace.%p --json -- python3 -m http.server 8000
  sockrun --stats --nodelay --keepalive=60,10,5 -- redis-server
  sockrun --reuseaddr --bind-addr=127.0.0.1 --port-map=80:8080 -- ./server
";

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
    match parse_args(args) {
        Err(message) => usage_error(&message),
        Ok(Action::Help) => print(&help(exe_dir().as_deref())),
        Ok(Action::Version) => print(&format!("sockrun {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(Action::Run(launch)) => launch_command(&launch),
    }
}

fn main() {
    process::exit(run(env::args_os().skip(1)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
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
            (&["--allow=10.0.0.0/8", "x"], "--allow is not yet supported"),
            (&["--deny", "x"], "--deny is not yet supported"),
            (&[], "no command given"),
            (&["--nodelay"], "no command given"),
            (&["--nodelay", "--"], "no command given"),
        ] {
            let got = error(args);
            assert!(got.starts_with(want), "{args:?}: {got}");
        }
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

    /// A fresh scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("sockrun-unit-{}-{name}", process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::canonicalize(dir).unwrap()
    }

    fn touch(path: &Path, mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn library_beside_then_in_prefix() {
        let root = scratch("lib");
        let bin = root.join("bin");
        fs::create_dir_all(&bin).unwrap();
        let err = find_library(None, Some(&bin)).unwrap_err();
        for tried in library_candidates(&bin) {
            assert!(err.contains(&tried.display().to_string()), "{err}");
        }
        assert!(
            err.contains(&format!("{}/lib/libsock.so.0", root.display())),
            "{err}"
        );

        touch(&root.join("lib/libsock.so"), 0o644);
        assert_eq!(
            find_library(None, Some(&bin)),
            Ok(root.join("lib/libsock.so"))
        );
        touch(&root.join("lib/libsock.so.0"), 0o644);
        assert_eq!(
            find_library(None, Some(&bin)),
            Ok(root.join("lib/libsock.so.0"))
        );
        touch(&bin.join("libsock.so.0"), 0o644);
        assert_eq!(find_library(None, Some(&bin)), Ok(bin.join("libsock.so.0")));
        // A symlinked file keeps its name (the SONAME link survives upgrades)...
        std::os::unix::fs::symlink("libsock.so.0", bin.join("libsock.so")).unwrap();
        assert_eq!(find_library(None, Some(&bin)), Ok(bin.join("libsock.so")));
        // ... a symlinked directory does not, nor does "..".
        std::os::unix::fs::symlink(&bin, root.join("link")).unwrap();
        let via_link = root.join("link/../bin/libsock.so.0");
        let found = find_library(Some(("--lib", via_link.as_os_str())), None);
        assert_eq!(found, Ok(bin.join("libsock.so.0")));
        // A dangling link is no library.
        std::os::unix::fs::symlink("gone", root.join("dangling")).unwrap();
        let dangling = root.join("dangling");
        let err = find_library(Some(("--lib", dangling.as_os_str())), None).unwrap_err();
        assert!(err.ends_with("No such file or directory"), "{err}");
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn library_of_the_python_wheel() {
        let root = scratch("wheel");
        let bin = root.join("bin");
        fs::create_dir_all(&bin).unwrap();
        let package = root.join("lib/python3.11/site-packages/libsock");
        fs::create_dir_all(&package).unwrap();
        let err = find_library(None, Some(&bin)).unwrap_err();
        assert!(
            err.contains(&package.join("libsock.so").display().to_string()),
            "{err}"
        );
        touch(&package.join("libsock.so"), 0o644);
        assert_eq!(
            find_library(None, Some(&bin)),
            Ok(package.join("libsock.so"))
        );
        // The install prefix's own library comes first.
        touch(&root.join("lib/libsock.so"), 0o644);
        assert_eq!(
            find_library(None, Some(&bin)),
            Ok(root.join("lib/libsock.so"))
        );
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn explicit_library_must_exist() {
        let root = scratch("explicit");
        let lib = root.join("my.so");
        let err = find_library(Some(("--lib", lib.as_os_str())), None).unwrap_err();
        assert!(
            err.starts_with(&format!("--lib={}: No such file", lib.display())),
            "{err}"
        );
        let err = find_library(Some(("LIBSOCK_LIB", root.as_os_str())), None).unwrap_err();
        assert!(err.ends_with("not a regular file"), "{err}");
        touch(&lib, 0o644);
        assert_eq!(
            find_library(Some(("--lib", lib.as_os_str())), None),
            Ok(lib.clone())
        );
        // Relative: made absolute (the test's cwd is the package root).
        let here = env::current_dir().unwrap();
        let relative = Path::new("Cargo.toml");
        let found = find_library(Some(("--lib", relative.as_os_str())), Some(&root)).unwrap();
        assert_eq!(found, fs::canonicalize(here.join(relative)).unwrap());
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn library_must_be_a_shared_object() {
        let err = check_library(Path::new("Cargo.toml")).unwrap_err();
        assert!(err.ends_with("not an ELF shared library"), "{err}");
        let err = check_library(Path::new("/a:b/libsock.so")).unwrap_err();
        assert!(err.contains("cannot carry"), "{err}");
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

    /// A little-endian ELF64 (x86-64) file with segments of these types.
    fn elf64(e_type: u16, segments: &[u32]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..6].copy_from_slice(b"\x7fELF\x02\x01");
        f[16..18].copy_from_slice(&e_type.to_le_bytes());
        f[18..20].copy_from_slice(&62u16.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for &p_type in segments {
            let mut entry = [0u8; 56];
            entry[..4].copy_from_slice(&p_type.to_le_bytes());
            f.extend_from_slice(&entry);
        }
        f
    }

    /// A big-endian ELF32 file (type EXEC, machine PowerPC) with a table at 100.
    fn elf32_be(segments: &[u32]) -> Vec<u8> {
        let mut f = vec![0u8; 100];
        f[..6].copy_from_slice(b"\x7fELF\x01\x02");
        f[16..18].copy_from_slice(&2u16.to_be_bytes());
        f[18..20].copy_from_slice(&20u16.to_be_bytes());
        f[28..32].copy_from_slice(&100u32.to_be_bytes());
        f[42..44].copy_from_slice(&32u16.to_be_bytes());
        f[44..46].copy_from_slice(&(segments.len() as u16).to_be_bytes());
        for &p_type in segments {
            let mut entry = [0u8; 32];
            entry[..4].copy_from_slice(&p_type.to_be_bytes());
            f.extend_from_slice(&entry);
        }
        f
    }

    fn elf(bytes: Vec<u8>) -> io::Result<Option<Elf>> {
        read_elf(Cursor::new(bytes))
    }

    const PT_LOAD: u32 = 1;

    #[test]
    fn elf_dynamic_static_and_static_pie() {
        let dynamic = elf(elf64(ET_DYN, &[6, PT_INTERP, PT_LOAD, PT_DYNAMIC]))
            .unwrap()
            .unwrap();
        assert_eq!(
            dynamic,
            Elf {
                class: 2,
                data: 1,
                e_type: ET_DYN,
                machine: 62,
                interp: true,
                dynamic: true
            }
        );
        let fully_static = elf(elf64(2, &[PT_LOAD, PT_LOAD])).unwrap().unwrap();
        assert!(!fully_static.interp && !fully_static.dynamic);
        let static_pie = elf(elf64(ET_DYN, &[PT_LOAD, PT_DYNAMIC])).unwrap().unwrap();
        assert!(!static_pie.interp && static_pie.dynamic);
        let ppc = elf(elf32_be(&[PT_INTERP, PT_LOAD])).unwrap().unwrap();
        assert_eq!(
            (ppc.class, ppc.data, ppc.machine, ppc.interp),
            (1, 2, 20, true)
        );
        assert!(!ppc.same_machine(&dynamic) && fully_static.same_machine(&dynamic));
    }

    #[test]
    fn elf_not_elf_or_cut_short() {
        assert_eq!(elf(b"#!/bin/sh\necho hi\n".to_vec()).unwrap(), None);
        assert_eq!(elf(Vec::new()).unwrap(), None);
        assert_eq!(elf(b"\x7fELF".to_vec()).unwrap(), None);
        let mut bad_class = elf64(ET_DYN, &[PT_INTERP]);
        bad_class[4] = 3;
        assert_eq!(elf(bad_class).unwrap(), None);
        let mut small_entries = elf64(ET_DYN, &[PT_INTERP]);
        small_entries[54] = 8;
        assert_eq!(elf(small_entries).unwrap(), None);
        let mut huge = elf64(ET_DYN, &[PT_INTERP]);
        huge[54..58].copy_from_slice(&[0xff, 0xff, 0xfe, 0xff]);
        assert_eq!(elf(huge).unwrap(), None);
        // The program header table runs past the end of the file.
        let mut cut = elf64(ET_DYN, &[PT_INTERP, PT_LOAD]);
        cut.truncate(100);
        assert!(elf(cut).is_err());
    }

    #[test]
    fn elf_of_real_files() {
        let me = File::open("/proc/self/exe")
            .and_then(read_elf)
            .unwrap()
            .unwrap();
        assert!(me.interp && me.dynamic, "{me:?}");
        assert_eq!(File::open("Cargo.toml").and_then(read_elf).unwrap(), None);
    }

    #[test]
    fn warnings_for_setuid_and_static() {
        let root = scratch("warn");
        let lib = elf(elf64(ET_DYN, &[PT_LOAD, PT_DYNAMIC])).unwrap().unwrap();
        let script = root.join("script");
        touch(&script, 0o755);
        assert!(interposition_warnings(&script, &lib).is_empty());
        fs::set_permissions(&script, fs::Permissions::from_mode(0o4755)).unwrap();
        let w = interposition_warnings(&script, &lib);
        assert!(w.len() == 1 && w[0].contains("is setuid:"), "{w:?}");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o6755)).unwrap();
        assert!(interposition_warnings(&script, &lib)[0].contains("is setuid and setgid:"));

        let program = root.join("static");
        fs::write(&program, elf64(2, &[PT_LOAD])).unwrap();
        let w = interposition_warnings(&program, &lib);
        assert!(
            w.len() == 1 && w[0].contains("is statically linked"),
            "{w:?}"
        );
        fs::write(&program, elf32_be(&[PT_INTERP])).unwrap();
        let w = interposition_warnings(&program, &lib);
        assert!(w.len() == 1 && w[0].contains("another machine"), "{w:?}");
        fs::write(&program, elf64(ET_DYN, &[PT_INTERP, PT_DYNAMIC])).unwrap();
        assert!(interposition_warnings(&program, &lib).is_empty());
        let _ = fs::remove_dir_all(root);
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
