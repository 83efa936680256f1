//! OperationOutcome: how every error and every `issues` answer is spelled.

use super::Json;
use serde_json::json;

/// The tx-issue-type code system that terminology servers use in `issue.details`.
pub const TX_ISSUE_TYPE: &str = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IssueSeverity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl IssueSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueSeverity::Fatal => "fatal",
            IssueSeverity::Error => "error",
            IssueSeverity::Warning => "warning",
            IssueSeverity::Information => "information",
        }
    }
}

/// One issue of an OperationOutcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub severity: IssueSeverity,
    /// The FHIR `issue-type` code, e.g. `not-found`, `invalid`, `code-invalid`.
    pub code: &'static str,
    /// The tx-issue-type code for `details.coding`, when the issue is a terminology finding.
    pub tx_code: Option<&'static str>,
    pub text: String,
    pub expression: Vec<String>,
    /// The `operationoutcome-message-id` extension value, when known exactly.
    pub message_id: Option<&'static str>,
    /// Whether the issue's text belongs in a summary `message` (some notes stay in `issues` only).
    pub in_message: bool,
    /// Whether the issue is listed in an OperationOutcome (a few explanations only join the `message`).
    pub in_outcome: bool,
}

impl Issue {
    pub fn new(severity: IssueSeverity, code: &'static str, text: impl Into<String>) -> Issue {
        Issue {
            severity,
            code,
            tx_code: None,
            text: text.into(),
            expression: Vec::new(),
            message_id: None,
            in_message: true,
            in_outcome: true,
        }
    }

    pub fn error(code: &'static str, text: impl Into<String>) -> Issue {
        Issue::new(IssueSeverity::Error, code, text)
    }

    pub fn warning(code: &'static str, text: impl Into<String>) -> Issue {
        Issue::new(IssueSeverity::Warning, code, text)
    }

    pub fn information(code: &'static str, text: impl Into<String>) -> Issue {
        Issue::new(IssueSeverity::Information, code, text)
    }

    pub fn tx(mut self, tx_code: &'static str) -> Issue {
        self.tx_code = Some(tx_code);
        self
    }

    pub fn at(mut self, expression: impl Into<String>) -> Issue {
        self.expression.push(expression.into());
        self
    }

    /// Keeps the issue out of summary messages.
    pub fn not_in_message(mut self) -> Issue {
        self.in_message = false;
        self
    }

    /// Keeps the issue out of OperationOutcomes: its text only joins the summary message.
    pub fn message_only(mut self) -> Issue {
        self.in_outcome = false;
        self
    }

    pub fn message_id(mut self, id: &'static str) -> Issue {
        self.message_id = Some(id);
        self
    }

    pub fn to_json(&self) -> Json {
        let mut issue = json!({"severity": self.severity.as_str(), "code": self.code});
        if let Some(id) = self.message_id {
            issue["extension"] = json!([{
                "url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id",
                "valueString": id
            }]);
        }
        let mut details = json!({"text": self.text});
        if let Some(tx_code) = self.tx_code {
            details["coding"] = json!([{"system": TX_ISSUE_TYPE, "code": tx_code}]);
        }
        issue["details"] = details;
        // Only `expression`: `location` is deprecated in R4, and the reference servers never write it.
        if !self.expression.is_empty() {
            issue["expression"] = json!(self.expression);
        }
        issue
    }
}

/// A list of issues that renders as an OperationOutcome resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OperationOutcome {
    pub issues: Vec<Issue>,
}

impl OperationOutcome {
    pub fn single(issue: Issue) -> OperationOutcome {
        OperationOutcome { issues: vec![issue] }
    }

    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|issue| issue.severity <= IssueSeverity::Error)
    }

    pub fn to_json(&self) -> Json {
        let issues: Vec<Json> = self.issues.iter().filter(|issue| issue.in_outcome).map(Issue::to_json).collect();
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }
}
