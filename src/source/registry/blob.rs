//! A registry blob as a plain `Read`: the GET is made on the first read (so
//! the pipeline can open every layer up front without holding idle
//! connections), and a connection that drops part-way is resumed with a
//! `Range: bytes=N-` request. A resumed answer is accepted only when it is a
//! 206 whose `Content-Range` starts at exactly the offset asked for; anything
//! else (a 200 from the start, another offset) is an error, never silently
//! spliced. The bytes are not checked here: the layer stage hashes the whole
//! stream against the blob's digest.
//!
//! A foreign (non-distributable) layer the registry does not have is fetched
//! from the `urls` of its descriptor, in order, without credentials — only
//! when the caller opted in (`ResolveOptions::allow_foreign_layers`);
//! otherwise the 404 becomes an error naming the layer and its URLs.

use super::client::{backoff, Client};
use crate::digest::Digest;
use std::io::{self, Read};
use std::sync::Arc;

/// Resumes allowed for one blob.
const MAX_RESUMES: u32 = 8;

pub struct BlobReader {
    client: Arc<Client>,
    digest: Digest,
    body: Option<ureq::BodyReader<'static>>,
    pos: u64,
    /// Length from the first answer's `Content-Length` (or the descriptor).
    total: Option<u64>,
    resumes: u32,
    /// Foreign-layer URLs from the descriptor (http/https only).
    urls: Vec<String>,
    /// Set once the blob is served from one of `urls` (resumes go there too).
    foreign: Option<String>,
    /// Whether `urls` may be fetched at all.
    allow_foreign: bool,
}

impl BlobReader {
    pub fn new(
        client: Arc<Client>,
        digest: Digest,
        size: Option<u64>,
        urls: Vec<String>,
        allow_foreign: bool,
    ) -> BlobReader {
        BlobReader {
            client,
            digest,
            body: None,
            pos: 0,
            total: size,
            resumes: 0,
            urls: urls
                .into_iter()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .collect(),
            foreign: None,
            allow_foreign,
        }
    }

    /// GET the blob from the registry, or (when the registry lacks it) from
    /// its foreign URLs, credentials never attached to those.
    fn get(&mut self, headers: &[(&str, &str)]) -> io::Result<ureq::http::Response<ureq::Body>> {
        let io = |e: crate::error::Error| io::Error::other(e.to_string());
        if let Some(u) = &self.foreign {
            return self.client.send_with(u, headers, false).map_err(io);
        }
        let url = self.client.url(&format!("blobs/{}", self.digest));
        let resp = self.client.send(&url, headers).map_err(io)?;
        if resp.status().as_u16() != 404 || self.urls.is_empty() {
            return Ok(resp);
        }
        if !self.allow_foreign {
            return Err(io::Error::other(format!(
                "{}: foreign layer not served by the registry; its URLs ({}) are not fetched unless --allow-foreign-layers is given",
                self.what(),
                self.urls.join(", ")
            )));
        }
        let mut last = resp;
        for u in self.urls.clone() {
            let r = self.client.send_with(&u, headers, false).map_err(io)?;
            if r.status().is_success() {
                self.foreign = Some(u);
                return Ok(r);
            }
            last = r;
        }
        Ok(last)
    }

    fn what(&self) -> String {
        format!("blob {} in {}", self.digest, self.client.display)
    }

    fn connect(&mut self) -> io::Result<()> {
        let range = format!("bytes={}-", self.pos);
        let mut headers = vec![("Accept", "*/*")];
        if self.pos > 0 {
            headers.push(("Range", &range));
        }
        let resp = self.get(&headers)?;
        let status = resp.status().as_u16();
        let length = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if self.pos == 0 {
            if status != 200 {
                return Err(io::Error::other(
                    self.client
                        .status_error(status, &format!("blob {}", self.digest))
                        .to_string(),
                ));
            }
            if let (Some(want), Some(got)) = (self.total, length) {
                if want != got {
                    return Err(io::Error::other(format!(
                        "{}: registry sends {got} bytes, the manifest says {want}",
                        self.what()
                    )));
                }
            }
            self.total = self.total.or(length);
        } else {
            let cr = resp
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let expect = format!("bytes {}-", self.pos);
            if status != 206 || !cr.starts_with(&expect) {
                return Err(io::Error::other(format!(
                    "{}: cannot resume at byte {}: the registry answered HTTP {status} with Content-Range {cr:?} (need 206 and {expect}…)",
                    self.what(),
                    self.pos
                )));
            }
        }
        self.body = Some(resp.into_body().into_reader());
        Ok(())
    }

    /// After a drop: count it and back off, or give up.
    fn dropped(&mut self, why: String) -> io::Result<()> {
        self.body = None;
        self.resumes += 1;
        if self.resumes > MAX_RESUMES {
            return Err(io::Error::other(format!(
                "{}: connection dropped {} times (last at byte {}: {why})",
                self.what(),
                self.resumes,
                self.pos
            )));
        }
        let what = self.what();
        let resumes = self.resumes;
        self.client
            .retry_wait(&what, why, resumes, MAX_RESUMES + 1, backoff(resumes));
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.total.is_some_and(|t| self.pos >= t) {
                return Ok(0);
            }
            if self.body.is_none() {
                self.connect()?;
            }
            let want = match self.total {
                Some(t) => buf
                    .len()
                    .min(usize::try_from(t - self.pos).unwrap_or(usize::MAX)),
                None => buf.len(),
            };
            let body = self.body.as_mut().expect("connected above");
            match body.read(&mut buf[..want]) {
                Ok(0) => match self.total {
                    Some(t) if self.pos < t => {
                        self.dropped(format!("stream ended early, {} of {t} bytes", self.pos))?
                    }
                    _ => return Ok(0),
                },
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.dropped(e.to_string())?,
            }
        }
    }
}
