// Every length ferry accepts from a peer is checked against one of these before anything is
// allocated. Modules add their limits here so that the caps are all in one place.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::limits {

// --- wire types (RFC 4251 §5) ---------------------------------------------------------------
// A single string field; the packet limit bounds it anyway, this also bounds nested encodings.
inline constexpr std::size_t max_string = 256 * 1024;
// A name-list as a whole, and the names in it (RFC 4251 §6: names are at most 64 characters).
inline constexpr std::size_t max_name_list = 16 * 1024;
inline constexpr std::size_t max_names = 256;
inline constexpr std::size_t max_name_length = 64;
// mpint magnitude: RSA 16384 bits (OpenSSH's SSHBUF_MAX_BIGNUM) plus a sign byte.
inline constexpr std::size_t max_mpint = 16384 / 8 + 1;

// --- SSH transport (RFC 4253) ---------------------------------------------------------------
// packet_length as read from the wire; RFC 4253 §6.1 requires at least 35000, OpenSSH uses 256 KiB.
inline constexpr std::size_t max_packet = 256 * 1024;
inline constexpr std::size_t max_identification_line = 255;  // RFC 4253 §4.2, CR LF included
inline constexpr std::size_t max_pre_banner_lines = 1024;     // as OpenSSH's client
// Bytes of pre-banner text a client reads before giving up (lines times the line limit).
inline constexpr std::size_t max_pre_banner_bytes = 64 * 1024;
// RFC 8308 §2.3 EXT_INFO: extensions in one message.
inline constexpr std::size_t ssh_max_extensions = 64;
// RFC 4419 §3: group sizes a diffie-hellman-group-exchange server offers, in bits.
inline constexpr std::size_t ssh_gex_min_bits = 2048;
inline constexpr std::size_t ssh_gex_max_bits = 8192;

// --- SFTP ------------------------------------------------------------------------------------
inline constexpr std::size_t sftp_max_message = 256 * 1024;
// An opaque handle as sent by a server (draft-ietf-secsh-filexfer-02 §6.2: at most 256 bytes).
inline constexpr std::size_t sftp_max_handle = 256;
// Extension pairs in INIT/VERSION (§4) and in one ATTRS (§5); OpenSSH announces about a dozen.
inline constexpr std::size_t sftp_max_extensions = 64;
// Entries in one SSH_FXP_NAME reply (§7); servers send ~100 per READDIR, the message caps it too.
inline constexpr std::size_t sftp_max_names = 4096;
// IDs in one users-groups-by-id@openssh.com request (PROTOCOL §4.12), and names in its reply.
inline constexpr std::size_t sftp_max_ids = 4096;

// --- SFTP client -----------------------------------------------------------------------------
// Block size when the server announces no limits@openssh.com (draft-ietf-secsh-filexfer-02 §3:
// every server must accept packets of 34000 bytes, so 32 KiB of data is always safe).
inline constexpr std::size_t sftp_client_default_block = 32 * 1024;
// Requests a transfer keeps in flight at most (transfer_options::max_in_flight is capped here),
// and how many it starts with before growing by one per reply (slow start, as OpenSSH's sftp).
inline constexpr std::size_t sftp_client_max_in_flight = 1024;
inline constexpr std::size_t sftp_client_initial_in_flight = 4;
// Bytes asked of the stream per read.
inline constexpr std::size_t sftp_client_read_buffer = 256 * 1024;
// Directory levels a recursive transfer descends before refusing (a symlink loop on the server
// cannot recurse forever; symlinks are not followed anyway).
inline constexpr std::size_t sftp_client_max_depth = 64;
// Entries one directory listing collects in memory.
inline constexpr std::size_t sftp_client_max_listing = 1024 * 1024;

// --- SFTP server ----------------------------------------------------------------------------
// Bytes one READ answers with at most, advertised in limits@openssh.com (as OpenSSH's sftp-server:
// the message limit less 1 KiB for the headers; writes of the same size fit in one message).
inline constexpr std::size_t sftp_server_max_read = sftp_max_message - 1024;
// Requests one session serves at once, and reply bytes it queues, before it stops reading the
// client (back-pressure: a client that never reads its replies cannot make the server buffer more).
inline constexpr std::size_t sftp_server_max_in_flight = 256;
inline constexpr std::size_t sftp_server_max_queued_output = 16 * 1024 * 1024;
// Bytes of entries in one READDIR reply (a NAME reply must fit the client's message limit).
inline constexpr std::size_t sftp_server_readdir_bytes = 128 * 1024;
// Open handles per session unless configured otherwise, and the most a configuration may ask for.
inline constexpr std::size_t sftp_server_default_handles = 256;
inline constexpr std::size_t sftp_server_max_handles = 65536;

// --- SCP (OpenSSH scp.c, the rcp protocol) ---------------------------------------------------
// One record or error line, newline included (scp.c reads records into a 2048-byte buffer).
inline constexpr std::size_t scp_max_line = 2048;
// Directories a sink descends into before refusing (scp.c recurses without a cap).
inline constexpr std::size_t scp_max_depth = 64;
// A C record's size (off_t range); a T record's seconds (year 9999).
inline constexpr std::uint64_t scp_max_size = (std::uint64_t{1} << 63) - 1;
inline constexpr std::uint64_t scp_max_time = 253402300799;
// An exec command line a server accepts (`scp -t -r -p -d -- 'name'`), and the paths it may name.
inline constexpr std::size_t scp_max_command = 64 * 1024;
inline constexpr std::size_t scp_max_paths = 1024;
// Bytes per file read or write, twice per transfer (one buffer moves while the other fills).
inline constexpr std::size_t scp_io_buffer = 256 * 1024;
// Entries one directory of a recursive send collects before refusing it.
inline constexpr std::size_t scp_max_dir_entries = 1024 * 1024;
// Warning messages a transfer summary keeps (the rest are counted only).
inline constexpr std::size_t scp_max_warnings = 64;

// --- FTP -------------------------------------------------------------------------------------
inline constexpr std::size_t ftp_max_line = 4096;
// A multi-line reply (RFC 959 §4.2) as a whole: STAT and HELP can be long, but a reply that never
// ends must not grow without bound.
inline constexpr std::size_t ftp_max_reply_lines = 4096;
inline constexpr std::size_t ftp_max_reply_bytes = 1024 * 1024;
// Directory listings the client collects in memory (LIST/MLSD over the data connection).
inline constexpr std::size_t ftp_max_listing_bytes = 64 * 1024 * 1024;
inline constexpr std::size_t ftp_max_listing_entries = 1024 * 1024;
// MLSx facts in one entry (RFC 3659 §7; a handful are defined).
inline constexpr std::size_t ftp_max_facts = 64;
// The server: commands a client may pipeline while a transfer runs (answered after it), and the
// directory entries STAT path sends over the control connection (RFC 959 §4.1.3).
inline constexpr std::size_t ftp_server_max_pipelined = 64;
inline constexpr std::size_t ftp_server_max_stat_entries = 2000;
// An ftp:// or ftps:// URL as typed on a command line (ftp/proto/url.hpp).
inline constexpr std::size_t ftp_max_url = 8192;

// --- filesystem (fs/path) -------------------------------------------------------------------
// A client path as received, and one component of it (PATH_MAX and NAME_MAX on Linux).
inline constexpr std::size_t fs_max_path = 4096;
inline constexpr std::size_t fs_max_name = 255;
// Symlinks followed while resolving one path before ELOOP (Linux's MAXSYMLINKS).
inline constexpr std::size_t fs_max_symlinks = 40;
// Entries returned by one readdir call.
inline constexpr std::size_t fs_readdir_batch = 128;

// --- auth --------------------------------------------------------------------------------------
// One line of an authorized_keys or users file (OpenSSH reads authorized_keys lines up to 16 KiB
// of key blob: base64 plus options fit in this).
inline constexpr std::size_t auth_max_line = 64 * 1024;
// A password as received (RFC 4252 §8 sets none; OpenSSH's sshd caps passwords at 1 KiB).
inline constexpr std::size_t auth_max_password = 1024;
// scrypt cost accepted from a stored hash: N = 2^ln with ln <= this, and r * p bounded, so a
// crafted users file cannot make one check use gigabytes or minutes.
inline constexpr unsigned auth_scrypt_max_ln = 20;
inline constexpr unsigned auth_scrypt_max_rp = 64;
// ... and the memory one check may use (128 * r * N bytes; ln=15, r=8 needs 32 MiB).
inline constexpr std::size_t auth_scrypt_max_memory = 256 * 1024 * 1024;

// --- SSH user authentication (RFC 4252, RFC 4256), keys and agent -----------------------------
// A user name, service name or method name in USERAUTH_REQUEST (OpenSSH has no fixed cap; login
// names are far shorter, and the packet bounds it anyway).
inline constexpr std::size_t ssh_auth_max_user = 256;
inline constexpr std::size_t ssh_auth_max_name = 64;
// A banner (RFC 4252 §5.4) or an INFO_REQUEST text field a client accepts.
inline constexpr std::size_t ssh_auth_max_banner = 64 * 1024;
// Prompts in one INFO_REQUEST and responses in one INFO_RESPONSE (RFC 4256 §3.2/§3.4; OpenSSH's
// sshd refuses more than 100 responses).
inline constexpr std::size_t ssh_auth_max_prompts = 100;
// One prompt or response (a response is a password or a one-time code).
inline constexpr std::size_t ssh_auth_max_prompt = 4096;
inline constexpr std::size_t ssh_auth_max_response = 1024;
// A public key or signature blob inside an auth request (RSA 16384 bits fits).
inline constexpr std::size_t ssh_auth_max_blob = 16 * 1024;
// Key files (PROTOCOL.key): the whole text read, the private section, kdf rounds accepted
// (ssh-keygen writes 16; each round costs ~tens of ms at 16) and the salt.
inline constexpr std::size_t ssh_key_max_file = 64 * 1024;
inline constexpr std::size_t ssh_key_max_comment = 4096;
inline constexpr std::uint32_t ssh_key_max_kdf_rounds = 1024;
inline constexpr std::size_t ssh_key_max_salt = 64;
// One known_hosts line, and the lines of one file considered.
inline constexpr std::size_t known_hosts_max_line = 64 * 1024;
inline constexpr std::size_t known_hosts_max_lines = 1024 * 1024;
// ssh-agent (draft-miller-ssh-agent §3): one message (OpenSSH's AGENT_MAX_LEN is 256 KiB) and
// identities in one IDENTITIES_ANSWER.
inline constexpr std::size_t agent_max_message = 256 * 1024;
inline constexpr std::size_t agent_max_identities = 2048;

// --- SSH connection protocol (RFC 4254) ---------------------------------------------------------
// Channels open at once on one connection, either side's (OpenSSH has no fixed cap; each costs a
// window of buffer), and session channels a client may have open (sshd's MaxSessions).
inline constexpr std::size_t ssh_max_channels = 1024;
inline constexpr std::size_t ssh_max_sessions = 10;
// Channel opens from the peer not yet confirmed or refused; more are refused (resource shortage).
inline constexpr std::size_t ssh_max_pending_opens = 64;
// A channel type, request name or global request name (RFC 4250 §4.6.1: at most 64 characters).
inline constexpr std::size_t ssh_max_request_name = 64;
// Environment variables (env requests) one session keeps, and a pty-req's encoded terminal modes.
inline constexpr std::size_t ssh_max_env = 256;
inline constexpr std::size_t ssh_max_pty_modes = 4096;
// Control messages (replies, window adjusts, closes) the connection queues for a peer that does
// not read; past this the reader stops reading until the writer catches up.
inline constexpr std::size_t ssh_max_queued_output = 4 * 1024 * 1024;
// What ssh::client::async_exec collects of a command's stdout and stderr each.
inline constexpr std::size_t ssh_exec_max_output = 256 * 1024 * 1024;

// --- ssh_config (client configuration files, ssh_config(5)) ------------------------------------
// One line, the words on it, a whole file, and nested Include levels (readconf.c: 16).
inline constexpr std::size_t ssh_config_max_line = 16 * 1024;
inline constexpr std::size_t ssh_config_max_args = 256;
inline constexpr std::size_t ssh_config_max_file = 4 * 1024 * 1024;
inline constexpr unsigned ssh_config_max_include_depth = 16;

}  // namespace ferry::limits
