//! `RELM_CLAIMS_MAP`: a caller's role and programs from the groups an identity provider's
//! token lists (interface.md, *Front-end applications*). Every rule whose value is in the
//! claim matches; the caller gets the highest matching role and the union of the programs of
//! the matching rules of that role, a rule without programs meaning every program.

use serde::Deserialize;
use serde_json::Value;

use super::{MAX_TOKEN_PROGRAMS, Role};

/// The map, checked when `serve` starts.
#[derive(Debug, Clone)]
pub struct ClaimsMap {
    /// Object keys leading to the claim, e.g. `["realm_access", "roles"]`.
    path: Vec<String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    value: String,
    role: Role,
    programs: Option<Vec<String>>,
}

/// What a token's groups grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// `None` for every program.
    pub programs: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    claim: ClaimPath,
    rules: Vec<RuleFile>,
}

/// A dotted path, or its segments for claim names that hold dots.
#[derive(Deserialize)]
#[serde(untagged)]
enum ClaimPath {
    Dotted(String),
    Segments(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    value: String,
    role: String,
    /// Left out for every program; `null` is refused, never read as "every program".
    #[serde(default, deserialize_with = "super::present_list")]
    programs: Option<Vec<String>>,
}

impl ClaimsMap {
    /// Reads and checks a map; the error names the problem for the operator.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: MapFile = serde_json::from_str(text).map_err(|e| {
            format!(
                "not a claims map ({e}); expected {{\"claim\": \"groups\", \"rules\": [{{\"value\": \"…\", \"role\": \"viewer\"}}]}}"
            )
        })?;
        let path = match file.claim {
            ClaimPath::Dotted(path) => path.split('.').map(str::to_owned).collect(),
            ClaimPath::Segments(segments) => segments,
        };
        if path.is_empty() || path.iter().any(String::is_empty) {
            return Err(
                "\"claim\" must name a claim, e.g. \"groups\" or \"realm_access.roles\"".into(),
            );
        }
        if file.rules.is_empty() {
            return Err("\"rules\" is empty: no token would get a role".into());
        }
        let rules = file
            .rules
            .into_iter()
            .enumerate()
            .map(|(index, rule)| {
                let number = index + 1;
                if rule.value.is_empty() {
                    return Err(format!("rule {number}: \"value\" is empty"));
                }
                let role = Role::from_claim(&rule.role.to_ascii_lowercase()).ok_or_else(|| {
                    format!(
                        "rule {number}: unknown role '{}' (viewer, analyst, release_manager or admin)",
                        rule.role
                    )
                })?;
                if let Some(programs) = &rule.programs {
                    if programs.is_empty() || programs.iter().any(|key| key.trim().is_empty()) {
                        return Err(format!(
                            "rule {number}: \"programs\" must list program keys (leave it out for every program)"
                        ));
                    }
                    if programs.len() > MAX_TOKEN_PROGRAMS {
                        return Err(format!(
                            "rule {number}: more than {MAX_TOKEN_PROGRAMS} programs"
                        ));
                    }
                }
                Ok(Rule {
                    value: rule.value,
                    role,
                    programs: rule.programs,
                })
            })
            .collect::<Result<Vec<Rule>, _>>()?;
        // A caller's programs are the union of its role's rules: never more than a token
        // may name.
        for role in [
            Role::Viewer,
            Role::Analyst,
            Role::ReleaseManager,
            Role::Admin,
        ] {
            let mut union: Vec<&String> = rules
                .iter()
                .filter(|rule| rule.role == role)
                .flat_map(|rule| rule.programs.iter().flatten())
                .collect();
            union.sort_unstable();
            union.dedup();
            if union.len() > MAX_TOKEN_PROGRAMS {
                return Err(format!(
                    "the rules of role {} name more than {MAX_TOKEN_PROGRAMS} programs",
                    role.claim()
                ));
            }
        }
        Ok(Self { path, rules })
    }

    /// What the token's claims grant; `None` when no rule matches.
    pub fn grant(&self, claims: &Value) -> Option<Grant> {
        let groups = self
            .path
            .iter()
            .try_fold(claims, |value, segment| value.get(segment))?
            .as_array()?;
        let member = |value: &str| groups.iter().any(|group| group.as_str() == Some(value));
        let matching: Vec<&Rule> = self.rules.iter().filter(|r| member(&r.value)).collect();
        let role = matching.iter().map(|rule| rule.role).max()?;
        let mut programs = Vec::new();
        for rule in matching.iter().filter(|rule| rule.role == role) {
            match &rule.programs {
                None => {
                    return Some(Grant {
                        role,
                        programs: None,
                    });
                }
                Some(keys) => programs.extend(keys.iter().cloned()),
            }
        }
        programs.sort_unstable();
        programs.dedup();
        Some(Grant {
            role,
            programs: Some(programs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXAMPLE: &str = r#"{"claim": "groups",
     "rules": [
       {"value": "release-admins",      "role": "admin"},
       {"value": "rm-payments",         "role": "release_manager", "programs": ["PAY"]},
       {"value": "rm-mobile",           "role": "release_manager", "programs": ["MOB"]},
       {"value": "engineering",         "role": "viewer"}]}"#;

    fn map(text: &str) -> ClaimsMap {
        ClaimsMap::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn grant(map: &ClaimsMap, claims: Value) -> Option<(Role, Option<Vec<String>>)> {
        map.grant(&claims).map(|g| (g.role, g.programs))
    }

    fn keys(keys: &[&str]) -> Option<Vec<String>> {
        Some(keys.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn the_highest_role_wins_with_the_union_of_its_programs() {
        let map = map(EXAMPLE);
        assert_eq!(
            grant(
                &map,
                json!({"groups": ["engineering", "rm-mobile", "rm-payments"]})
            ),
            Some((Role::ReleaseManager, keys(&["MOB", "PAY"])))
        );
        assert_eq!(
            grant(&map, json!({"groups": ["rm-mobile", "release-admins"]})),
            Some((Role::Admin, None))
        );
        assert_eq!(
            grant(&map, json!({"groups": ["engineering"]})),
            Some((Role::Viewer, None))
        );
    }

    #[test]
    fn no_matching_group_or_no_claim_grants_nothing() {
        let map = map(EXAMPLE);
        assert_eq!(grant(&map, json!({"groups": ["sales"]})), None);
        assert_eq!(grant(&map, json!({"groups": []})), None);
        assert_eq!(grant(&map, json!({"roles": ["release-admins"]})), None);
        assert_eq!(grant(&map, json!({"groups": "release-admins"})), None);
    }

    #[test]
    fn a_rule_of_the_winning_role_without_programs_means_every_program() {
        let map = map(r#"{"claim": "groups", "rules": [
                {"value": "a", "role": "analyst", "programs": ["PAY"]},
                {"value": "b", "role": "analyst"},
                {"value": "c", "role": "viewer", "programs": ["MOB"]}]}"#);
        assert_eq!(
            grant(&map, json!({"groups": ["a", "b", "c"]})),
            Some((Role::Analyst, None))
        );
        assert_eq!(
            grant(&map, json!({"groups": ["a", "c"]})),
            Some((Role::Analyst, keys(&["PAY"])))
        );
    }

    #[test]
    fn dotted_paths_reach_into_objects_and_segments_hold_dots() {
        let nested =
            map(r#"{"claim": "realm_access.roles", "rules": [{"value": "x", "role": "analyst"}]}"#);
        assert_eq!(
            grant(&nested, json!({"realm_access": {"roles": ["x"]}})),
            Some((Role::Analyst, None))
        );
        let dotted = map(
            r#"{"claim": ["https://example.com/groups"], "rules": [{"value": "x", "role": "admin"}]}"#,
        );
        assert_eq!(
            grant(&dotted, json!({"https://example.com/groups": ["x"]})),
            Some((Role::Admin, None))
        );
    }

    #[test]
    fn a_map_that_cannot_be_read_names_its_problem() {
        for (text, says) in [
            ("[]", "not a claims map"),
            (r#"{"claim": "groups", "rules": []}"#, "\"rules\" is empty"),
            (
                r#"{"claim": "", "rules": [{"value": "x", "role": "admin"}]}"#,
                "must name a claim",
            ),
            (
                r#"{"claim": "a..b", "rules": [{"value": "x", "role": "admin"}]}"#,
                "must name a claim",
            ),
            (
                r#"{"claim": "g", "rules": [{"value": "x", "role": "boss"}]}"#,
                "rule 1: unknown role 'boss'",
            ),
            (
                r#"{"claim": "g", "rules": [{"value": "x", "role": "admin"}, {"value": "", "role": "admin"}]}"#,
                "rule 2: \"value\" is empty",
            ),
            (
                r#"{"claim": "g", "rules": [{"value": "x", "role": "admin", "programs": []}]}"#,
                "rule 1: \"programs\"",
            ),
            (
                r#"{"claim": "g", "rules": [{"value": "x", "role": "admin", "group": "y"}]}"#,
                "unknown field",
            ),
        ] {
            let error = ClaimsMap::parse(text).err().unwrap_or_default();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn programs_null_is_refused_not_read_as_every_program() {
        let text =
            r#"{"claim": "g", "rules": [{"value": "x", "role": "admin", "programs": null}]}"#;
        assert!(ClaimsMap::parse(text).is_err());
    }
}
