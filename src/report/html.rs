//! HTML for people: escaping that keeps the evidence's text inert and its tokens whole, and the
//! style the HTML report and the overview share (on screen and on A4 paper).

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c if c.is_control() && c != '\n' => out.push_str(&format!("&#x{:x};", c as u32)),
        c => out.push(c),
    }
}

/// Tokens up to this many characters (addresses, UPNs, tool names) never wrap.
const TOKEN_KEPT: usize = 24;

/// Where a longer token (a blob path, a resource id, a session id, JSON arguments) may wrap: after
/// one of its own separators.
const TOKEN_SEPARATORS: &[char] = &['.', '@', '/', ':', '_', '|', '=', '&', '?', ',', ';', '-'];

/// Escapes text for a table cell or prose so that no token breaks inside itself: a token (the
/// text between spaces) of up to [`TOKEN_KEPT`] characters is kept on one line (a browser would
/// otherwise break `bob-keller@…` at its hyphen), a longer one may wrap only after its own
/// separators (`<wbr>`); a long run without any (a SHA-256) stays whole and the table widens.
/// Not for attribute values: use [`html_escape`].
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for token in text.split_inclusive(char::is_whitespace) {
        let word = token.trim_end();
        let space = &token[word.len()..];
        let length = word.chars().count();
        if length <= TOKEN_KEPT {
            // Browsers break after these when a letter follows (not in `2026-09-21`).
            let breakable = word
                .as_bytes()
                .windows(2)
                .any(|w| matches!(w[0], b'-' | b'/' | b'?') && !w[1].is_ascii_digit());
            if breakable {
                out.push_str("<span class=\"tok\">");
            }
            word.chars().for_each(|c| push_escaped(&mut out, c));
            if breakable {
                out.push_str("</span>");
            }
        } else {
            let mut chars = word.chars().peekable();
            while let Some(c) = chars.next() {
                push_escaped(&mut out, c);
                if TOKEN_SEPARATORS.contains(&c) && chars.peek().is_some() {
                    out.push_str("<wbr>");
                }
            }
        }
        space.chars().for_each(|c| push_escaped(&mut out, c));
    }
    out
}

/// The style of the HTML report: readable on screen, clean on A4 paper (headers repeat on each
/// page, rows never split, the details start on a new page, times never wrap).
pub const HTML_STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}\
.meta{color:#555;margin-top:0}nav{margin:1em 0;color:#555}nav a{margin-right:.8em}\
table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:normal;word-break:normal}.tok{white-space:nowrap}\
th{background:#f3f3f3}td.t,th.t{white-space:nowrap;overflow-wrap:normal}td.n{text-align:right;white-space:nowrap}\
td.reasons{background:#fafafa}.bad{color:#b00020;font-weight:600}.ok{color:#1b5e20;font-weight:600}\
.headline{font-size:1.1em}table.totals{width:auto}table.totals th{width:14em}\
.tier-exfiltrated{color:#b00020;font-weight:600}.tier-accessed{color:#b35c00}.tier-exposed{color:#6a1b9a}.tier-cannot_exclude{color:#555}\
.ev{border-bottom:1px dotted #888}td.args{min-width:16em}code{font-size:12px}svg{max-width:100%;height:auto}svg text{font-size:10px}\
@page{size:A4;margin:14mm}\
@media print{body{margin:0;max-width:none;font-size:10px}nav{display:none}h2{break-after:avoid}tr,li{break-inside:avoid}\
thead{display:table-header-group}#details{break-before:page}#summary{break-inside:avoid}a{color:inherit;text-decoration:none}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_text_breaks_long_tokens_only_after_their_separators() {
        assert_eq!(html_text("45.86.202.14"), "45.86.202.14");
        assert_eq!(
            html_text("Generated 2026-09-21 14:13:20"),
            "Generated 2026-09-21 14:13:20"
        );
        assert_eq!(
            html_text("anne-marie@contoso.com <b>"),
            "<span class=\"tok\">anne-marie@contoso.com</span> &lt;b&gt;"
        );
        assert_eq!(
            html_text("resourceId=/SUBSCRIPTIONS/ab"),
            "resourceId=<wbr>/<wbr>SUBSCRIPTIONS/<wbr>ab"
        );
        let hash = "ab".repeat(32);
        assert_eq!(
            html_text(&hash),
            hash,
            "a run without separators stays whole"
        );
    }
}
