#include <ferry/fs/error.hpp>
#include <ferry/ftp/proto/feat.hpp>
#include <ferry/ftp/server/replies.hpp>

namespace ferry::ftp {

reply_text fs_error_reply(const error_code& ec) noexcept {
  switch (fs::kind_of(ec)) {
    case fs::error_kind::ok: return {200, "OK."};
    case fs::error_kind::end_of_file: return {451, "Unexpected end of file."};
    case fs::error_kind::no_such_file: return {550, "No such file or directory."};
    case fs::error_kind::permission_denied: return {550, "Permission denied."};
    case fs::error_kind::already_exists: return {550, "File exists."};
    case fs::error_kind::not_a_directory: return {550, "Not a directory."};
    case fs::error_kind::is_a_directory: return {550, "Is a directory."};
    case fs::error_kind::not_empty: return {550, "Directory not empty."};
    case fs::error_kind::no_space: return {452, "Insufficient storage space."};
    case fs::error_kind::read_only: return {550, "Read-only file system."};
    case fs::error_kind::invalid: return {553, "File name not allowed."};
    case fs::error_kind::unsupported: return {502, "Not supported by this server's storage."};
    case fs::error_kind::failure: break;
  }
  return {451, "Local error in processing."};
}

std::string help_text() {
  return "The following commands are recognized.\n"
         " ABOR ACCT ALLO APPE AUTH CCC  CDUP CWD  DELE EPRT EPSV FEAT HASH HELP HOST LIST\n"
         " MDTM MFMT MKD  MLSD MLST MODE NLST NOOP OPTS PASS PASV PBSZ PORT PROT PWD  QUIT\n"
         " RANG REIN REST RETR RMD  RNFR RNTO SITE SIZE STAT STOR STOU STRU SYST TYPE USER\n"
         " XCUP XCWD XMKD XPWD XRMD\n"
         "Help OK.";
}

std::string feat_reply(bool tls, const mlst_facts& facts, hash_name hash) {
  features f;
  if (tls) {
    f.items["AUTH"] = "TLS";  // RFC 4217 §6
    f.items["PBSZ"] = "";
    f.items["PROT"] = "";
  }
  f.items["EPRT"] = "";  // RFC 2428
  f.items["EPSV"] = "";
  f.items["HOST"] = "";  // RFC 7151
  f.items["MDTM"] = "";  // RFC 3659 §3
  f.items["MFMT"] = "";
  f.items["MLST"] = format_mlst_facts(facts, true);  // RFC 3659 §7.8
  f.items["REST"] = "STREAM";                         // RFC 3659 §5
  f.items["SIZE"] = "";                               // RFC 3659 §4
  f.items["TVFS"] = "";                               // RFC 3659 §6
  f.items["UTF8"] = "";                               // RFC 2640 §3.3
  f.items["RANG"] = "STREAM";                         // draft-bryan-ftp-range
  std::string h;
  for (auto n : {hash_name::sha1, hash_name::sha256, hash_name::sha512, hash_name::md5}) {
    if (!h.empty()) h += ';';
    h += hash_name_text(n);
    if (n == hash) h += '*';
  }
  f.items["HASH"] = h;  // draft-bryan-ftpext-hash §4
  return format_feat(f);
}

}  // namespace ferry::ftp
