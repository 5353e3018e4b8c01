//! How the handover crosses the exec: its state in an anonymous memory file
//! (`memfd_create`: nothing on disk, nothing in the state dir a local user
//! could plant a link in), named to the next image by descriptor number in
//! one environment variable; and the descriptors that must stay open.

use std::io::{Read, Seek, Write};

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::DaemonHandover;

/// The environment variable naming the handover's descriptor.
pub const HANDOVER_FD_VAR: &str = "PTYHUB_HANDOVER_FD";

/// Writes the handover to a new anonymous file (closed on exec until the
/// upgrade says otherwise): the JSON document, a newline, then the bulk
/// text it set aside (`side_text.rs`).
pub fn write(handover: &DaemonHandover) -> std::io::Result<OwnedFd> {
    let (json, side) = super::side_text::write(handover).map_err(std::io::Error::other)?;
    // SAFETY: a valid C string; memfd_create returns a new descriptor or -1.
    let fd = unsafe { libc::memfd_create(c"ptyhub-handover".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the descriptor was just created and is owned by nothing else.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(&json)?;
    file.write_all(b"\n")?;
    file.write_all(&side)?;
    file.rewind()?;
    Ok(OwnedFd::from(file))
}

/// The bytes `write` writes, in memory (for tests of the format).
#[cfg(test)]
pub fn encode(handover: &DaemonHandover) -> std::io::Result<Vec<u8>> {
    let (mut bytes, side) = super::side_text::write(handover).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    bytes.extend_from_slice(&side);
    Ok(bytes)
}

/// The handover an earlier image left, if this process is the next image:
/// read, its descriptor closed and the variable removed, so no child sees
/// it. Call before any thread starts (it changes the environment).
pub fn take_from_environment() -> anyhow::Result<Option<DaemonHandover>> {
    let Some(value) = std::env::var_os(HANDOVER_FD_VAR) else {
        return Ok(None);
    };
    std::env::remove_var(HANDOVER_FD_VAR);
    let fd = value
        .to_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{HANDOVER_FD_VAR} is not a descriptor number"))?;
    read(fd, true).map(Some)
}

/// Reads (and closes) the handover in descriptor `fd`, which must be one
/// this process was given for it alone. With `materialize` false, its bulk
/// text is checked to be there but not read out (`side_text.rs`).
pub fn read(fd: RawFd, materialize: bool) -> anyhow::Result<DaemonHandover> {
    anyhow::ensure!(fd > 2, "{fd} is not a handover descriptor");
    // SAFETY: the handover's descriptor was left for this process alone
    // (checked open below by the read).
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    parse(bytes, materialize)
}

/// A handover from its bytes, refused unless this build reads its format.
pub fn parse(bytes: Vec<u8>, materialize: bool) -> anyhow::Result<DaemonHandover> {
    #[derive(serde::Deserialize)]
    struct Format {
        format: u32,
    }
    let mut documents = serde_json::Deserializer::from_slice(&bytes).into_iter::<Format>();
    let format = match documents.next() {
        Some(Ok(format)) => format.format,
        Some(Err(e)) => anyhow::bail!("the handover state names no format: {e}"),
        None => anyhow::bail!("the handover state is empty"),
    };
    super::check_format(format).map_err(anyhow::Error::msg)?;
    let json_end = documents.byte_offset();
    let side_start = if bytes.get(json_end) == Some(&b'\n') {
        json_end + 1
    } else {
        json_end
    };
    super::side_text::read(bytes, json_end, side_start, materialize)
        .map_err(|e| anyhow::anyhow!("the handover state of format {format} does not read: {e}"))
}

/// Back to the start, for the next reader.
pub fn rewind(fd: &OwnedFd) -> std::io::Result<()> {
    // SAFETY: lseek on a descriptor we own.
    if unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_SET) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Leaves `fd` open across the next exec.
pub fn keep_open_across_exec(fd: RawFd) -> std::io::Result<()> {
    set_close_on_exec(fd, false)
}

/// Closes `fd` on exec again (a descriptor taken over, or kept for an exec
/// that did not happen): children this image starts must not inherit it.
pub fn close_on_exec(fd: &impl AsRawFd) {
    if let Err(err) = set_close_on_exec(fd.as_raw_fd(), true) {
        tracing::warn!(%err, "cannot mark a descriptor close-on-exec");
    }
}

fn set_close_on_exec(fd: RawFd, close: bool) -> std::io::Result<()> {
    // SAFETY: F_GETFD/F_SETFD on a descriptor number; no memory involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let flags = if close {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The listening socket an earlier image left open as `fd`, for tokio.
///
/// # Safety
/// `fd` must be an open listening TCP socket nothing else here owns.
pub unsafe fn listener_from(fd: RawFd) -> std::io::Result<tokio::net::TcpListener> {
    // SAFETY: the caller's promise.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    close_on_exec(&listener);
    listener.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(listener)
}

/// A descriptor an earlier image left open as `fd`, owned from now on and
/// closed on exec again.
///
/// # Safety
/// `fd` must be open and owned by nothing else here.
pub unsafe fn inherited_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller's promise.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    close_on_exec(&owned);
    owned
}
