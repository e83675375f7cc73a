//! The SQL text a client sends over TDS, read off the bytes a [`super::FaultProxy`] forwards
//! to the server: the text of every SQL batch, and the statement of every RPC call
//! (`sp_executesql`'s first parameter, as tiberius sends a parameterised query). Other
//! messages (pre-login, login, attention, transaction manager) are passed over: the login's
//! password is never read.

/// TDS message types this reader decodes.
const SQL_BATCH: u8 = 0x01;
const RPC: u8 = 0x03;
/// The status bit of a message's last packet.
const END_OF_MESSAGE: u8 = 0x01;
/// `NVARCHAR`'s type byte in an RPC parameter.
const NVARCHAR: u8 = 0xE7;
/// The length of a packet header.
const HEADER: usize = 8;

/// Reassembles the client's packets into messages and keeps their SQL.
#[derive(Debug, Default)]
pub(super) struct SqlLog {
    pending: Vec<u8>,
    message: Vec<u8>,
    kind: u8,
}

impl SqlLog {
    /// Takes `bytes` from the client; returns the SQL of every message they complete.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if self.pending.len() < HEADER {
                break;
            }
            let len = usize::from(u16::from_be_bytes([self.pending[2], self.pending[3]]));
            if len < HEADER {
                // Not TDS (or lost in the middle of a packet): give up on what is buffered.
                self.pending.clear();
                break;
            }
            if self.pending.len() < len {
                break;
            }
            let (kind, status) = (self.pending[0], self.pending[1]);
            self.kind = kind;
            self.message.extend_from_slice(&self.pending[HEADER..len]);
            self.pending.drain(..len);
            if status & END_OF_MESSAGE != 0 {
                let message = std::mem::take(&mut self.message);
                let sql = match kind {
                    SQL_BATCH => batch_text(&message),
                    RPC => rpc_text(&message),
                    _ => None,
                };
                out.extend(sql);
            }
        }
        out
    }
}

/// The bytes after the `ALL_HEADERS` block a batch or an RPC starts with.
fn after_headers(message: &[u8]) -> Option<&[u8]> {
    let total = u32::from_le_bytes(message.get(..4)?.try_into().ok()?) as usize;
    message.get(total..)
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn batch_text(message: &[u8]) -> Option<String> {
    Some(utf16(after_headers(message)?))
}

/// The first `NVARCHAR` parameter of an RPC (the statement of `sp_executesql`), prefixed
/// with `RPC: `.
fn rpc_text(message: &[u8]) -> Option<String> {
    let mut b = after_headers(message)?;
    let name_len = u16::from_le_bytes(b.get(..2)?.try_into().ok()?);
    b = if name_len == 0xFFFF {
        b.get(4..)?
    } else {
        b.get(2 + 2 * usize::from(name_len)..)?
    };
    // Option flags, then the first parameter: its name, status and type.
    b = b.get(2..)?;
    let pname = usize::from(*b.first()?);
    b = b.get(1 + 2 * pname + 1..)?;
    if *b.first()? != NVARCHAR {
        return None;
    }
    let max = u16::from_le_bytes(b.get(1..3)?.try_into().ok()?);
    // Type byte, max length, collation.
    b = b.get(8..)?;
    let text = if max == 0xFFFF {
        let mut text = Vec::new();
        let mut rest = b.get(8..)?;
        loop {
            let n = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            if n == 0 {
                break;
            }
            text.extend_from_slice(rest.get(4..4 + n)?);
            rest = rest.get(4 + n..)?;
        }
        text
    } else {
        let n = usize::from(u16::from_le_bytes(b.get(..2)?.try_into().ok()?));
        b.get(2..2 + n)?.to_vec()
    };
    Some(format!("RPC: {}", utf16(&text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(kind: u8, last: bool, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + HEADER).unwrap();
        let mut p = vec![kind, u8::from(last), 0, 0, 0, 0, 1, 0];
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    fn text(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn with_headers(body: &[u8]) -> Vec<u8> {
        let mut m = 4_u32.to_le_bytes().to_vec();
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn batches_split_over_packets_and_reads_are_put_together() {
        let body = with_headers(&text("SELECT 1; SELECT 2"));
        let (a, b) = body.split_at(10);
        let mut bytes = packet(SQL_BATCH, false, a);
        bytes.extend(packet(SQL_BATCH, true, b));
        bytes.extend(packet(0x10, true, b"login"));
        let mut log = SqlLog::default();
        let (first, rest) = bytes.split_at(5);
        assert!(log.feed(first).is_empty());
        assert_eq!(log.feed(rest), vec!["SELECT 1; SELECT 2".to_owned()]);
    }

    #[test]
    fn the_statement_of_an_rpc_is_its_first_nvarchar_parameter() {
        let sql = text("SELECT @P1");
        let mut body = vec![0xFF, 0xFF, 10, 0, 0, 0]; // sp_executesql, flags
        body.extend([0, 0, NVARCHAR, 0x40, 0x1F, 0, 0, 0, 0, 0]);
        body.extend(u16::try_from(sql.len()).unwrap().to_le_bytes());
        body.extend(&sql);
        let mut log = SqlLog::default();
        let got = log.feed(&packet(RPC, true, &with_headers(&body)));
        assert_eq!(got, vec!["RPC: SELECT @P1".to_owned()]);
    }
}
