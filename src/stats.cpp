// Statistics for the views of SPEC section 5 (see stats.hpp). Placeholder until the shared
// memory implementation lands: statistics are off.
#include "electric_shapes/stats.hpp"

namespace es::stats {

SlotStats *open_slot(const char *) { return nullptr; }
void change_decoded(SlotStats *, bool) {}
void transaction_decoded(SlotStats *, bool, XLogRecPtr, TimestampTz) {}
void shape_emitted(SlotStats *, const char *, Emit, uint64, XLogRecPtr) {}
void bytes_emitted(SlotStats *, uint64) {}
void filter_error(SlotStats *, const char *) {}
void spill_bytes(SlotStats *, int64) {}

}  // namespace es::stats
