//! Roles of workspace members and what each may do.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
    /// Read-only: another department looking at cases, or a reporting integration.
    Viewer,
}

/// What an action needs; checked on every endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    /// Replies to customers and internal notes.
    Write,
    /// Status, priority, assignment, team and tag changes.
    Triage,
    MergeContacts,
    ManageTeams,
    ManageChannels,
    /// People (invitations, roles, deactivation), API tokens and workspace settings.
    ManageWorkspace,
    /// Writing the knowledge base: articles, their versions, categories; confirming translations.
    ManageKnowledge,
    /// Rules, business calendars and SLA policies (CONTRACT.md: admin).
    ManageAutomation,
    /// Creating, changing and deleting macros (applying one needs `Write` and `Triage`).
    ManageMacros,
}

impl Role {
    pub const ALL: [Role; 4] = [Self::Admin, Self::Supervisor, Self::Agent, Self::Viewer];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
            Self::Viewer => "viewer",
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Self::Admin => true,
            Self::Supervisor => !matches!(permission, ManageChannels | ManageWorkspace | ManageAutomation),
            Self::Agent => matches!(permission, Read | Write | Triage | MergeContacts),
            Self::Viewer => matches!(permission, Read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or(UnknownRole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_reads_only_and_only_admin_manages_channels() {
        assert!(Role::Viewer.allows(Permission::Read));
        assert!(!Role::Viewer.allows(Permission::Write));
        assert!(!Role::Viewer.allows(Permission::Triage));
        assert!(Role::Agent.allows(Permission::Write));
        assert!(!Role::Agent.allows(Permission::ManageChannels));
        assert!(!Role::Supervisor.allows(Permission::ManageChannels));
        assert!(Role::Supervisor.allows(Permission::ManageTeams));
        assert!(Role::Admin.allows(Permission::ManageChannels));
        assert!(Role::Admin.allows(Permission::ManageWorkspace));
        assert!(!Role::Supervisor.allows(Permission::ManageWorkspace));
        assert!(!Role::Agent.allows(Permission::ManageWorkspace));
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
