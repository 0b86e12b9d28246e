//! Reference entities about people: users and roles, commissioners, teams.
//! They are managed on the server by sync admins and reach devices as
//! reference data; they are not Automerge documents.

use serde::{Deserialize, Serialize};

use super::{CountyCode, ProvinceCode, TeamId, TownshipCode, UserId, VillageCode};

code_enum! {
    /// What a user does in the system (角色).
    pub enum Role {
        /// 科技特派员: logs their own work, reads the team's.
        Commissioner = ("commissioner", "科技特派员"),
        /// 团长: reads the team's work, writes only review fields.
        TeamLead = ("team_lead", "团长"),
        /// 同步管理员: reads a county or province, manages users and devices,
        /// resolves conflicts.
        SyncAdmin = ("sync_admin", "同步管理员"),
    }
}

/// How far a user's reading reaches (数据范围).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum Scope {
    /// Only the user's own records.
    Own,
    /// Everything of one team.
    Team(TeamId),
    /// Everything in one county.
    County(CountyCode),
    /// Everything in one province.
    Province(ProvinceCode),
}

/// A user account (用户).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable ID.
    pub id: UserId,
    /// Sign-in name, unique.
    pub username: String,
    /// The name shown to others (姓名).
    pub display_name: String,
    /// What the user does.
    pub role: Role,
    /// How far the user reads.
    pub scope: Scope,
    /// The team the user belongs to, if any.
    pub team: Option<TeamId>,
    /// Whether the account may sign in.
    pub active: bool,
}

code_enum! {
    /// Individual or legal-person commissioner.
    pub enum CommissionerKind {
        /// 自然人科技特派员.
        Individual = ("individual", "自然人"),
        /// 法人科技特派员: an institute, university or company.
        LegalPerson = ("legal_person", "法人"),
    }
}

code_enum! {
    /// The level that sent the commissioner.
    pub enum CommissionerLevel {
        /// 国家级.
        National = ("national", "国家级"),
        /// 省级.
        Provincial = ("provincial", "省级"),
        /// 市级.
        Prefectural = ("prefectural", "市级"),
        /// 县级.
        County = ("county", "县级"),
    }
}

/// A science-and-technology commissioner (科技特派员): the profile behind a
/// user whose role is [`Role::Commissioner`] (or a team lead, who is usually a
/// commissioner too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commissioner {
    /// The user account.
    pub user: UserId,
    /// Individual or legal person.
    pub kind: CommissionerKind,
    /// 派出单位: the sending employer.
    pub employer: String,
    /// 专业领域: field of expertise.
    pub expertise: String,
    /// Who sent them.
    pub level: CommissionerLevel,
    /// The county they serve.
    pub county: CountyCode,
    /// Townships assigned to them.
    pub townships: Vec<TownshipCode>,
    /// Villages assigned to them.
    pub villages: Vec<VillageCode>,
}

/// A county team (科技特派团): "one county, one team".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Stable ID.
    pub id: TeamId,
    /// The team's name.
    pub name: String,
    /// The county it serves.
    pub county: CountyCode,
    /// 主导产业: the county's leading industry the team serves.
    pub leading_industry: String,
    /// 团长, if appointed.
    pub lead: Option<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_have_a_readable_json_form() {
        let c = CountyCode::parse("522633").unwrap();
        assert_eq!(
            serde_json::to_string(&Scope::County(c)).unwrap(),
            r#"{"level":"county","code":"522633"}"#
        );
        assert_eq!(
            serde_json::to_string(&Scope::Own).unwrap(),
            r#"{"level":"own"}"#
        );
        assert_eq!(Role::from_code("team_lead"), Some(Role::TeamLead));
        assert_eq!(Role::TeamLead.label_zh(), "团长");
    }
}
