//! Reading and writing the state dir's files without being redirected.
//!
//! The files carry the tokens. A symlink planted at a state file or at a
//! temp name must never make the daemon write a token elsewhere (into a file
//! others can read) nor read a token someone else chose: every open refuses
//! to follow a final symlink (`O_NOFOLLOW`), temp files are created only if
//! nothing is at their name (`O_EXCL`), mode 0600, and a read accepts only a
//! regular file (`O_NONBLOCK`, so a planted FIFO cannot hang the daemon).

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Reads a whole state file, refusing a symlink or anything but a regular file.
pub fn read_private(path: &Path) -> std::io::Result<String> {
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|err| explain_symlink(path, err))?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not a regular file", path.display()),
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

/// Writes `bytes` to `path` so readers see the old file or the new one, never
/// half; the file is mode 0600.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with_mode(path, bytes, 0o600)
}

/// [`write_atomically`] for a file others may read (`mode`, less the umask),
/// such as a service unit: the same refusal to follow a planted symlink.
pub fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let tmp = temp_name(path);
    let mut file = match create_exclusive(&tmp, mode) {
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            // A temp file left by a crash of a process with our pid, or
            // something planted: unlink the name (a symlink is removed, not
            // followed) and create afresh, once.
            fs::remove_file(&tmp)?;
            create_exclusive(&tmp, mode)?
        }
        other => other?,
    };
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    // rename(2) replaces whatever is at `path`, a symlink included, without following it.
    match written.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(err) => {
            let _ = fs::remove_file(&tmp);
            Err(err)
        }
    }
}

/// `<dir>/<stem>.tmp-<pid>`: one writer per process and file.
pub fn temp_name(path: &Path) -> PathBuf {
    path.with_extension(format!("tmp-{}", std::process::id()))
}

fn create_exclusive(path: &Path, mode: u32) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

fn explain_symlink(path: &Path, err: std::io::Error) -> std::io::Error {
    if err.raw_os_error() == Some(libc::ELOOP) {
        std::io::Error::new(
            err.kind(),
            format!(
                "{} is a symlink; state files are never followed",
                path.display()
            ),
        )
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn a_symlink_at_the_temp_name_is_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let elsewhere = dir.path().join("elsewhere");
        fs::write(&elsewhere, "untouched").expect("write");
        let target = dir.path().join("daemon.json");
        symlink(&elsewhere, temp_name(&target)).expect("symlink");
        write_atomically(&target, b"secret").expect("write");
        assert_eq!(fs::read_to_string(&elsewhere).expect("read"), "untouched");
        assert_eq!(read_private(&target).expect("read"), "secret");
        let mode = fs::metadata(&target).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_symlink_at_the_file_is_replaced_on_write_and_refused_on_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let elsewhere = dir.path().join("elsewhere");
        fs::write(&elsewhere, "chosen by someone else").expect("write");
        let target = dir.path().join("view-token");
        symlink(&elsewhere, &target).expect("symlink");
        let err = read_private(&target).expect_err("a symlink is not read");
        assert!(err.to_string().contains("symlink"), "{err}");
        write_atomically(&target, b"mine").expect("write");
        assert_eq!(
            fs::read_to_string(&elsewhere).expect("read"),
            "chosen by someone else"
        );
        assert!(!fs::symlink_metadata(&target).expect("meta").is_symlink());
    }
}
