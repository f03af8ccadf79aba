#include "bridge/common/CancelToken.h"

#include "bridge/common/Error.h"

namespace bridge {
void CancelToken::throwIfCancelled() const {
    if (cancelled()) throw BridgeError(ErrorCode::Cancelled, "request cancelled by the caller");
}
}  // namespace bridge
