//! A real `ripen serve` on 127.0.0.1:0 for the web tests: spawned from the
//! built binary, its port read from the first stdout line, stopped with
//! SIGTERM (and checked to exit 0) when dropped. Plus a small HTTP client:
//! `ureq` for ordinary requests, a raw socket for malformed ones.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{Desk, EDITOR};

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub addr: String,
}

/// What a request answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// Status, content type, headers and body of an answer.
    fn read(resp: ureq2::Response) -> Reply {
        let status = resp.status();
        let content_type = resp.header("content-type").unwrap_or("").to_string();
        let headers = resp
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = resp.header(&n).unwrap_or("").to_string();
                (n, v)
            })
            .collect();
        let body = resp.into_string().expect("utf-8 body");
        Reply { status, content_type, headers, body }
    }
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Server {
    pub fn start(db: &Path) -> Server {
        Server::start_with(db, &[])
    }

    pub fn start_with(db: &Path, extra: &[&str]) -> Server {
        Server::start_env(db, extra, &[])
    }

    /// `start_with` and environment variables for the server (`RIPEN_NOW`).
    pub fn start_env(db: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ripen"))
            .arg("--db")
            .arg(db)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env_remove("RIPEN_DB")
            .env_remove("RIPEN_ACTOR")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn ripen serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, base: format!("http://{addr}"), addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let agent = ureq2::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        let mut req = agent.get(&self.url(path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq2::Error::Status(_, r)) => r,
            Err(e) => panic!("GET {path}: {e}"),
        };
        Reply::read(resp)
    }

    /// POSTs `body` with `headers` (ordinary statuses are answers, not errors).
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let agent = ureq2::AgentBuilder::new().timeout(Duration::from_secs(60)).redirects(0).build();
        let mut req = agent.post(&self.url(path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let resp = match req.send_string(body) {
            Ok(r) => r,
            Err(ureq2::Error::Status(_, r)) => r,
            Err(e) => panic!("POST {path}: {e}"),
        };
        Reply::read(resp)
    }

    /// A JSON POST signed with `token` (none: no Authorization header).
    pub fn api(&self, path: &str, token: Option<&str>, body: &serde_json::Value) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        self.post(path, &headers, &body.to_string())
    }

    /// Sends `request` as it is and returns the status and the whole answer.
    pub fn raw(&self, request: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(request).expect("send");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).to_string();
        let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, text)
    }

    /// Stops the server with SIGTERM and returns its exit code.
    pub fn stop(mut self) -> Option<i32> {
        self.terminate()
    }

    fn terminate(&mut self) -> Option<i32> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// A desk with a topic, two sources, three claims, a badge move and a text
/// revision.
pub fn sample_desk() -> Desk {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "edit", "compute-economy", "--summary", "What compute costs.", "--reason", "r"]);
    let s1 = desk.source("Cost of pass", "A", Some("arXiv"));
    let s2 = desk.source("Another study", "B", Some("Lab"));
    desk.ok_as(EDITOR, &["source", "map", &s1, "--topic", "compute-economy", "--reason", "r"]);
    desk.claim("Inference prices fell tenfold.", &[&s1]);
    desk.claim("Training runs grow fast.", &[&s1, &s2]);
    desk.claim("Nobody knows the GPU count.", &[]);
    desk.ok_as(EDITOR, &["claim", "edit", "C1", "--text", "Inference prices fell twentyfold.", "--reason", "new data"]);
    desk.ok_as(EDITOR, &["demote", "C2", "--reason", "two independent sources disagree"]);
    desk
}
