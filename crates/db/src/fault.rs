//! Which failures a new connection and another try can overcome ([`Fault`]), and which are
//! final: a wrong password, a missing table or a bad value fail the same way every time.

use std::fmt;
use std::io::ErrorKind;

use bptmig_model::pipeline::CommandTimeout;

use crate::Side;

/// SQL Server's error number for a deadlock victim.
pub const DEADLOCK_VICTIM: u32 = 1205;
/// SQL Server's error number for a lock wait past `SET LOCK_TIMEOUT`.
pub const LOCK_TIMEOUT: u32 = 1222;

/// Server errors that say the connection, or the database behind it, is briefly unavailable:
/// the pipe or socket broke (233, 10053, 10054, 10060), the server is busy or throttling
/// (10928, 10929, 40501), or the database is moving or restarting (40143, 40197, 40540, 40613,
/// 49918, 49919, 49920).
pub const UNAVAILABLE_ERRORS: &[u32] = &[
    233, 10053, 10054, 10060, 10928, 10929, 40143, 40197, 40501, 40540, 40613, 49918, 49919, 49920,
];

/// A failure that a new connection and another try may overcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The connection was reset, closed or broken; `kind` is how the OS or the driver saw it.
    ConnectionLost { kind: ErrorKind },
    /// The server sent no answer within the command timeout.
    TimedOut,
    /// The server chose the statement as a deadlock victim ([`DEADLOCK_VICTIM`]).
    Deadlock,
    /// A lock wait ran past the session's lock timeout ([`LOCK_TIMEOUT`]).
    LockTimeout,
    /// The server reported the connection or the database as briefly unavailable
    /// (one of [`UNAVAILABLE_ERRORS`]).
    ServerUnavailable { code: u32 },
    /// A new connection to `addr` could not be made.
    Unreachable { addr: String },
}

impl Fault {
    /// The fault of a driver error, if it is one.
    pub fn of_driver(error: &tiberius::error::Error) -> Option<Self> {
        match error {
            tiberius::error::Error::Io { kind, .. } => Self::of_io(*kind),
            tiberius::error::Error::Server(token) => Self::of_server_error(token.code()),
            _ => None,
        }
    }

    /// The fault of an I/O error of `kind` on a database connection, if it is one.
    pub fn of_io(kind: ErrorKind) -> Option<Self> {
        match kind {
            ErrorKind::TimedOut => Some(Fault::TimedOut),
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionRefused
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
            | ErrorKind::NotConnected
            | ErrorKind::WriteZero
            | ErrorKind::NetworkDown
            | ErrorKind::NetworkUnreachable
            | ErrorKind::HostUnreachable => Some(Fault::ConnectionLost { kind }),
            _ => None,
        }
    }

    /// The fault of the server error number `code`, if it is one.
    pub fn of_server_error(code: u32) -> Option<Self> {
        match code {
            DEADLOCK_VICTIM => Some(Fault::Deadlock),
            LOCK_TIMEOUT => Some(Fault::LockTimeout),
            c if UNAVAILABLE_ERRORS.contains(&c) => Some(Fault::ServerUnavailable { code }),
            _ => None,
        }
    }

    /// The fault in words for a person: what happened on the `side`, and for a timeout the
    /// setting that bounds it (`timeout`, that side's) and what to do about it.
    pub fn describe(&self, side: Side, timeout: &CommandTimeout) -> String {
        match self {
            Fault::ConnectionLost { kind } => {
                format!("the connection to the {side} was lost ({kind})")
            }
            Fault::TimedOut => match timeout.limit {
                Some(limit) => format!(
                    "the {side} sent no answer within {} s ({}); if its statements may take \
                     that long (a lock wait, a busy server), raise it (0 = no limit)",
                    limit.as_secs(),
                    timeout.setting(side.as_str())
                ),
                None => format!("the {side} sent no answer in time"),
            },
            Fault::Deadlock => format!(
                "the {side} chose the statement as a deadlock victim (error {DEADLOCK_VICTIM})"
            ),
            Fault::LockTimeout => {
                format!(
                    "a lock wait on the {side} ran past its lock timeout (error {LOCK_TIMEOUT})"
                )
            }
            Fault::ServerUnavailable { code } => format!(
                "the {side} reported the connection or its database unavailable (error {code})"
            ),
            Fault::Unreachable { addr } => {
                format!("the {side} at `{addr}` could not be reached again")
            }
        }
    }
}

/// A short form for logs.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::ConnectionLost { kind } => write!(f, "connection lost ({kind})"),
            Fault::TimedOut => f.write_str("no answer within the command timeout"),
            Fault::Deadlock => write!(f, "deadlock victim (error {DEADLOCK_VICTIM})"),
            Fault::LockTimeout => write!(f, "lock timeout (error {LOCK_TIMEOUT})"),
            Fault::ServerUnavailable { code } => write!(f, "server unavailable (error {code})"),
            Fault::Unreachable { addr } => write!(f, "`{addr}` unreachable"),
        }
    }
}

/// An error that may be a [`Fault`]: the retry helper tries again only after those.
pub trait Transient {
    /// The transient fault this error is, or `None` when trying again would fail the same way.
    fn fault(&self) -> Option<Fault>;
}

impl Transient for tiberius::error::Error {
    fn fault(&self) -> Option<Fault> {
        Fault::of_driver(self)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bptmig_model::pipeline::SettingOrigin;

    use super::*;

    #[test]
    fn network_failures_deadlocks_and_lock_timeouts_are_transient_the_rest_is_not() {
        let io = |kind| tiberius::error::Error::Io {
            kind,
            message: "boom".into(),
        };
        for kind in [
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
            ErrorKind::BrokenPipe,
            ErrorKind::UnexpectedEof,
            ErrorKind::NotConnected,
        ] {
            assert_eq!(
                io(kind).fault(),
                Some(Fault::ConnectionLost { kind }),
                "{kind}"
            );
        }
        assert_eq!(io(ErrorKind::TimedOut).fault(), Some(Fault::TimedOut));
        assert_eq!(io(ErrorKind::PermissionDenied).fault(), None);
        assert_eq!(io(ErrorKind::InvalidData).fault(), None);
        assert_eq!(
            tiberius::error::Error::Protocol("invalid token type".into()).fault(),
            None
        );
        assert_eq!(tiberius::error::Error::Utf8.fault(), None);

        assert_eq!(Fault::of_server_error(1205), Some(Fault::Deadlock));
        assert_eq!(Fault::of_server_error(1222), Some(Fault::LockTimeout));
        for code in [233, 10054, 40613] {
            assert_eq!(
                Fault::of_server_error(code),
                Some(Fault::ServerUnavailable { code })
            );
        }
        // Permission denied, invalid object, constraint violation, login failed.
        for code in [229, 208, 547, 2627, 18456] {
            assert_eq!(Fault::of_server_error(code), None, "{code}");
        }
    }

    #[test]
    fn a_timeout_names_the_setting_and_what_to_do_never_a_driver_api() {
        let from_key = CommandTimeout::from_secs(30, SettingOrigin::Pipeline);
        let text = Fault::TimedOut.describe(Side::Source, &from_key);
        assert_eq!(
            text,
            "the source sent no answer within 30 s (`source.command_timeout_secs = 30`); if its \
             statements may take that long (a lock wait, a busy server), raise it (0 = no limit)"
        );
        let from_ado = CommandTimeout {
            limit: Some(Duration::from_secs(5)),
            origin: SettingOrigin::ConnectionString,
        };
        let text = Fault::TimedOut.describe(Side::Target, &from_ado);
        assert!(
            text.contains("within 5 s (`Command Timeout=5` in `target.connection`)"),
            "{text}"
        );
        let lost = Fault::ConnectionLost {
            kind: ErrorKind::UnexpectedEof,
        };
        assert_eq!(
            lost.describe(Side::Source, &from_key),
            "the connection to the source was lost (unexpected end of file)"
        );
        for fault in [Fault::TimedOut, lost, Fault::Deadlock] {
            let text = fault.describe(Side::Source, &from_key);
            assert!(!text.contains("Config") && !text.contains("::"), "{text}");
        }
    }
}
