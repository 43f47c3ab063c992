//! Finding the `libsock.so` to preload: `--lib`/`LIBSOCK_LIB`, else the
//! places beside sockrun (`library_candidates`, the one list of them), never
//! the current directory; and checking it is a shared library.

use crate::args::Launch;
use crate::elf::{self, Elf};
use crate::exec::describe;

use std::env;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where sockrun looks for the library, in order: beside itself, then in
/// its install prefix, then in a Python wheel's package in that prefix. The
/// one list of places: a new one goes here (and in `help::library_help`,
/// which shows them to the user).
pub(crate) fn library_candidates(exe_dir: &Path) -> Vec<PathBuf> {
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
pub(crate) fn find_library(
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
pub(crate) fn check_library(lib: &Path) -> Result<Elf, String> {
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
        .and_then(elf::read_elf)
        .map_err(|e| format!("{}: {}", lib.display(), describe(&e)))?;
    match elf {
        Some(elf) if elf.e_type == elf::ET_DYN && elf.dynamic => Ok(elf),
        _ => Err(format!("{}: not an ELF shared library", lib.display())),
    }
}

/// The library `launch` asks for (`--lib`, else `LIBSOCK_LIB`), or the one
/// beside sockrun.
pub(crate) fn library(launch: &Launch) -> Result<(PathBuf, Elf), String> {
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
pub(crate) fn exe_dir() -> Option<PathBuf> {
    env::current_exe().ok()?.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{scratch, touch};

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
}
