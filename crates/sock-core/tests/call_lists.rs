//! Every list of calls kept outside the table of calls agrees with it.
//!
//! The table (`sock_core::for_each_call!`) generates the library's next
//! definitions, its exports and the `Call` enum. The lists that live in
//! other languages or tools are checked here, so a call added to (or taken
//! from) one place only fails `make unit`:
//! `tests/exports.txt` (what `nm -D` must show), `cbindgen.toml`'s
//! exclusions (glibc declares these, not `<sock.h>`), `clippy.toml`'s bans,
//! the Python prototypes (`python/libsock/_lib.py`) and the trace checker's
//! call lists (`c-tests/trace/tracecheck.py`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use sock_core::Call;
use sock_core::calls::Kind;

fn root_file(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn table() -> BTreeSet<String> {
    Call::ALL.iter().map(|c| c.name().to_string()).collect()
}

/// The quoted strings between `start` and the next `end`, comments dropped.
fn quoted(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
    let body = &text[from..];
    let body = &body[..body.find(end).unwrap_or_else(|| panic!("no {end:?}"))];
    body.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.split('"').skip(1).step_by(2).map(str::to_string))
        .collect()
}

fn diff(what: &str, want: &BTreeSet<String>, have: &BTreeSet<String>) {
    let missing: Vec<_> = want.difference(have).collect();
    let extra: Vec<_> = have.difference(want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what} disagrees with the table of calls (crates/sock-core/src/calls.rs): \
         missing {missing:?}, not in the table {extra:?}"
    );
}

/// libsock's own API: the functions `<sock.h>` declares.
fn own_api() -> BTreeSet<String> {
    let header = root_file("include/sock.h");
    header
        .lines()
        .filter(|l| !l.starts_with([' ', '*', '/', '#']) && l.contains('('))
        .filter_map(|l| {
            let name = l[..l.find('(')?].rsplit([' ', '*']).next()?;
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect()
}

#[test]
fn exports_txt_is_the_table_and_the_header() {
    let have: BTreeSet<String> = root_file("tests/exports.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let api = own_api();
    assert!(api.contains("sockset_new") && api.contains("libsock_version"));
    assert!(
        api.is_disjoint(&table()),
        "<sock.h> declares a standard call"
    );
    let want = table().union(&api).cloned().collect();
    diff("tests/exports.txt", &want, &have);
}

#[test]
fn cbindgen_excludes_the_table() {
    let mut have: BTreeSet<String> = quoted(&root_file("cbindgen.toml"), "exclude = [", "]")
        .into_iter()
        .collect();
    // glibc's fortify abort, which libsock calls; not a call it exports.
    assert!(have.remove("__chk_fail"));
    diff("cbindgen.toml's [export] exclude", &table(), &have);
}

#[test]
fn clippy_bans_every_libc_function_of_the_table() {
    let clippy = root_file("clippy.toml");
    let have: BTreeSet<String> = quoted(&clippy, "disallowed-methods = [", "\n]")
        .into_iter()
        .filter_map(|s| s.strip_prefix("libc::").map(str::to_string))
        .collect();
    let want = Call::ALL
        .iter()
        .filter(|c| c.in_libc_crate())
        .map(|c| c.name().to_string())
        .collect();
    diff("clippy.toml's disallowed-methods", &want, &have);
}

/// The ctypes spelling of a C type as the table writes it.
fn ctype(rust: &str) -> &'static str {
    match rust.replace(' ', "").as_str() {
        "c_int" => "_c_int",
        "c_uint" => "_c_uint",
        "size_t" => "_c_size_t",
        "ssize_t" => "_c_ssize_t",
        "socklen_t" => "socklen_t",
        "*constsockaddr" | "*mutsockaddr" => "_sockaddr_p",
        "*mutsocklen_t" => "_socklen_p",
        "*constc_void" | "*mutc_void" => "_c_void_p",
        "*mutc_int" => "ctypes.POINTER(_c_int)",
        "*constmsghdr" | "*mutmsghdr" => "_msghdr_p",
        "*mutmmsghdr" => "_mmsghdr_p",
        "*muttimespec" => "ctypes.POINTER(timespec)",
        "()" => "None",
        other => panic!("no ctypes spelling for {other:?}: add one here"),
    }
}

#[test]
fn python_prototypes_match_the_table() {
    let text: String = root_file("python/libsock/_lib.py")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let text = text.replace(",]", "]").replace(",)", ")");
    let body = &text[text.find("PROTOTYPES={").expect("PROTOTYPES = {")..];
    let body = &body[..body.find("}").expect("end of PROTOTYPES")];
    for c in Call::ALL {
        if c.kind() == Kind::Exit {
            // A Python program cannot use them (the interpreter would not
            // flush or clean up): no prototype, on purpose.
            continue;
        }
        let args: Vec<_> = c.params().iter().map(|t| ctype(t)).collect();
        let want = format!(
            "\"{}\":({},[{}])",
            c.name(),
            ctype(c.returns()),
            args.join(",")
        );
        assert!(
            body.contains(&want),
            "python/libsock/_lib.py: PROTOTYPES has no {want} (the table of calls says so)"
        );
    }
    // Each key is the quoted name before a `":(`.
    let pieces: Vec<&str> = body.split("\":(").collect();
    let keys: BTreeSet<String> = pieces[..pieces.len() - 1]
        .iter()
        .filter_map(|k| k.rsplit('"').next())
        .map(str::to_string)
        .collect();
    let want: BTreeSet<String> = Call::ALL
        .iter()
        .filter(|c| c.kind() != Kind::Exit)
        .map(|c| c.name().to_string())
        .chain(own_api())
        .collect();
    diff("python/libsock/_lib.py's PROTOTYPES", &want, &keys);
}

#[test]
fn trace_checker_knows_the_traced_calls() {
    let py = root_file("c-tests/trace/tracecheck.py");
    let calls: BTreeSet<String> = quoted(&py, "\nCALLS = {", "}").into_iter().collect();
    let counted = Call::counted().map(|c| c.name().to_string()).collect();
    diff("c-tests/trace/tracecheck.py's CALLS", &counted, &calls);
    let descriptor: BTreeSet<String> = quoted(&py, "\nDESCRIPTOR_CALLS = (", ")")
        .into_iter()
        .collect();
    let want = Call::ALL
        .iter()
        .filter(|c| c.kind() == Kind::Descriptor)
        .map(|c| c.name().to_string())
        .collect();
    diff(
        "c-tests/trace/tracecheck.py's DESCRIPTOR_CALLS",
        &want,
        &descriptor,
    );
}
