// If-None-Match against a response's etag, as Electric compares them: any comma-separated value
// of the request header, with surrounding spaces and quotes trimmed, equal to the unquoted etag
// answers 304 (clients behind an HTTP cache revalidate a chunk without downloading it again).
#pragma once

#include <string_view>

namespace es::sync {

// True when if_none_match (the request header) names etag (the response header, quoted).
bool etag_matches(std::string_view etag, std::string_view if_none_match);

}  // namespace es::sync
