//! The Subscription root: live availability. The resolver only asks the served
//! `Ticketing` for the stream and translates its messages; what the stream contains
//! (snapshot, changes, resync) and how far a subscriber may fall behind is the domain's.
//! The WebSocket transport that runs it is [`crate::subscriptions`].

use async_graphql::{Context, ID, Result, Subscription as SubscriptionRoot};
use domain::EventId;
use futures::{Stream, StreamExt, future};

use super::api;
use super::availability::AvailabilityUpdate;
use super::inputs::parse_id;
use crate::error::to_graphql;

/// Live updates.
pub struct Subscription;

#[SubscriptionRoot]
impl Subscription {
    /// An event's seat availability as it changes: a SNAPSHOT first (unless resuming
    /// from a version the server still retains), then one CHANGE per committed change
    /// with versions one apart, and a final RESYNC if this subscriber fell too far behind
    /// (then the subscription completes: subscribe again with `fromVersion` set to its
    /// version). An unknown event is a NOT_FOUND error, a `fromVersion` ahead of the
    /// event's a BAD_USER_INPUT error, both before any message.
    async fn availability_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event to watch.")] event_id: ID,
        #[graphql(
            desc = "The last version already seen: continue right after it (or from a snapshot if it is no longer retained)."
        )]
        from_version: Option<u64>,
    ) -> Result<impl Stream<Item = Result<AvailabilityUpdate>> + use<>> {
        let id = parse_id("event_id", &event_id).map_err(|e| to_graphql(&e))?;
        let stream = api(ctx)?
            .watch_availability(EventId(id), from_version)
            .await
            .map_err(|e| to_graphql(&e))?;
        // A failed stream sends its error and ends, as on every transport.
        Ok(stream
            .scan(false, |failed, item| {
                if *failed {
                    return future::ready(None);
                }
                *failed = item.is_err();
                future::ready(Some(item.map(Into::into).map_err(|e| to_graphql(&e))))
            })
            .fuse())
    }
}
