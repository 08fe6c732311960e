//! Reading an HTTP response body with a size limit, so a client never buffers more than
//! it agreed to (16 MiB by default: the largest seat map fits).

use domain::Error;

/// Reads `response`'s body, refusing to hold more than `max_bytes`.
///
/// # Errors
/// `LIMIT_EXCEEDED` (what: "response size") past the limit; `INTERNAL` if the
/// connection fails mid-body.
pub async fn read_body_limited(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, Error> {
    let too_big = || Error::limit_exceeded("response size", max_bytes as u64);
    if response
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .map_or(8 * 1024, |len| len as usize),
    );
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::internal(format!("reading the response body failed: {e}")))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
