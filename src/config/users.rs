//! Resolving a `user` setting to numeric credentials, as `docker run --user` does.
//!
//! Owns: parsing the container's `/etc/passwd` and `/etc/group`. A static musl binary has no
//! NSS, and an image `FROM scratch` may have no libc at all, so formation reads the files
//! itself (SPEC §3.4).
//!
//! Must not: switch credentials (the spawned child does, in `child.rs`).
//!
//! Rules (runc's `GetExecUser`): `name` or `uid`, optionally `:group` or `:gid`. The primary
//! gid is the passwd entry's unless a group is given; a bare uid with no passwd entry gets
//! gid 0. The supplementary groups are the user's memberships listed in /etc/group — and none
//! of formation's own.

use nix::unistd::{Gid, Uid};

/// Numeric credentials for an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The user id to switch to.
    pub uid: Uid,
    /// The primary group id.
    pub gid: Gid,
    /// The supplementary groups (may be empty).
    pub groups: Vec<Gid>,
    /// The passwd entry's home directory, `/` for a uid with no entry (as Docker does): the
    /// instance's `HOME` unless its config sets one.
    pub home: String,
}

impl Credentials {
    /// Credentials not looked up: what `export` keeps for a `user` that the container will
    /// resolve (SPEC §8). Never used to switch: export spawns nothing.
    pub fn unresolved() -> Credentials {
        Credentials {
            uid: Uid::from_raw(0),
            gid: Gid::from_raw(0),
            groups: Vec::new(),
            home: "/".into(),
        }
    }
}

/// One line of /etc/passwd that matters here.
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        let _gecos = fields.next();
        let home = fields.next().filter(|h| !h.is_empty()).unwrap_or("/");
        Some(PasswdEntry {
            name,
            uid,
            gid,
            home,
        })
    })
}

/// (group name, gid, member names) for each line of /etc/group.
fn group_entries(text: &str) -> impl Iterator<Item = (&str, u32, &str)> {
    text.lines().filter_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let gid = fields.next()?.parse().ok()?;
        Some((name, gid, fields.next().unwrap_or("")))
    })
}

/// Resolves `spec` (`name`, `uid`, `name:group`, `uid:gid`) against the texts of
/// /etc/passwd and /etc/group. The error says what could not be found.
pub fn resolve(spec: &str, passwd: &str, group: &str) -> Result<Credentials, String> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user_part.is_empty() || group_part == Some("") {
        return Err(format!(
            "user {spec:?} is not of the form name, uid or uid:gid"
        ));
    }
    let (uid, entry) = match user_part.parse::<u32>() {
        Ok(uid) => (uid, passwd_entries(passwd).find(|e| e.uid == uid)),
        Err(_) => {
            let entry = passwd_entries(passwd)
                .find(|e| e.name == user_part)
                .ok_or_else(|| format!("user {user_part:?} is not in /etc/passwd"))?;
            (entry.uid, Some(entry))
        }
    };
    let gid = match group_part {
        None => entry.as_ref().map_or(0, |e| e.gid),
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group_entries(group)
                .find(|(name, _, _)| *name == g)
                .map(|(_, gid, _)| gid)
                .ok_or_else(|| format!("group {g:?} is not in /etc/group"))?,
        },
    };
    let groups = match &entry {
        Some(e) => group_entries(group)
            .filter(|(_, _, members)| members.split(',').any(|m| m == e.name))
            .map(|(_, gid, _)| Gid::from_raw(gid))
            .collect(),
        None => Vec::new(),
    };
    Ok(Credentials {
        uid: Uid::from_raw(uid),
        gid: Gid::from_raw(gid),
        groups,
        home: entry.map_or("/", |e| e.home).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n\
                          broken line\nnobody:x:65534:65534::/:/sbin/nologin\nshort:x:7:7\n";
    const GROUP: &str = "root:x:0:\napp:x:1000:\nwheel:x:10:root,app\naudio:x:29:app\n\
                         nogroup:x:65534:\n";

    fn creds(uid: u32, gid: u32, groups: &[u32], home: &str) -> Credentials {
        Credentials {
            uid: Uid::from_raw(uid),
            gid: Gid::from_raw(gid),
            groups: groups.iter().map(|g| Gid::from_raw(*g)).collect(),
            home: home.into(),
        }
    }

    #[test]
    fn resolves_like_docker_run_user() {
        let table = [
            ("app", creds(1000, 1000, &[10, 29], "/home/app")),
            ("1000", creds(1000, 1000, &[10, 29], "/home/app")),
            ("12345", creds(12345, 0, &[], "/")),
            ("12345:12345", creds(12345, 12345, &[], "/")),
            ("app:audio", creds(1000, 29, &[10, 29], "/home/app")),
            ("nobody", creds(65534, 65534, &[], "/")),
            ("root", creds(0, 0, &[10], "/root")),
            ("short", creds(7, 7, &[], "/")),
        ];
        for (spec, want) in table {
            assert_eq!(resolve(spec, PASSWD, GROUP), Ok(want), "{spec}");
        }
    }

    #[test]
    fn unknown_names_are_errors() {
        for spec in ["ghost", "app:ghosts", "", ":1", "1:"] {
            assert!(resolve(spec, PASSWD, GROUP).is_err(), "{spec:?}");
        }
    }
}
