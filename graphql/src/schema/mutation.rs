//! The Mutation root: writes. Each one is all or nothing: a validation error changes
//! nothing.

use async_graphql::{Context, ID, Object, Result};
use domain::{BookingId, HoldRequest};

use super::api;
use super::inline::Inline;
use super::inputs::{HoldSeatsInput, parse_id};
use super::types::Booking;
use crate::error::to_graphql;

/// Writes.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Holds 1 to 8 seats of one event, all or nothing, for 10 minutes.
    async fn hold_seats(
        &self,
        ctx: &Context<'_>,
        input: HoldSeatsInput,
    ) -> Result<Inline<Booking>> {
        let request = HoldRequest::try_from(input).map_err(|e| to_graphql(&e))?;
        let booking = api(ctx)?
            .hold_seats(request)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(Inline(booking.into()))
    }

    /// Confirms a held booking if `expectedVersion` is its current version; a stale
    /// version fails with VERSION_MISMATCH and changes nothing.
    async fn confirm_booking(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: u64,
    ) -> Result<Inline<Booking>> {
        let id = parse_id("id", &id).map_err(|e| to_graphql(&e))?;
        let booking = api(ctx)?
            .confirm_booking(BookingId(id), expected_version)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(Inline(booking.into()))
    }

    /// Cancels a held or confirmed booking and releases its seats.
    async fn cancel_booking(&self, ctx: &Context<'_>, id: ID) -> Result<Inline<Booking>> {
        let id = parse_id("id", &id).map_err(|e| to_graphql(&e))?;
        let booking = api(ctx)?
            .cancel_booking(BookingId(id))
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(Inline(booking.into()))
    }
}
