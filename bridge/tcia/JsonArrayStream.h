#pragma once
// Splits a JSON body of the form `[ elem, elem, ... ]` into its top-level elements while it
// arrives, so that a TCIA answer of hundreds of thousands of rows (getSeries of a large
// collection) is never held whole: feed() takes any chunking of the bytes and hands each
// complete element's text to the callback as soon as its closing character arrives.
//
// Only the structure is tracked (strings with escapes, nesting of {} and []); the elements
// themselves are parsed by the callback's owner (TciaJsonParser, which stays the one tolerant
// parser). A body that does not start with '[' (TCIA's plain-text error sentences labelled
// application/json, `{}`, ...) is collected whole up to maxElementBytes and handed over by
// finish() as one "element" with `wholeBody` = true, so the caller can parse it the usual way.
// Bounds: an element (or such a body) longer than maxElementBytes throws
// BridgeError(UpstreamBadResponse); memory is that bound plus the caller's batch.
// Not thread-safe (one stream, one thread). Pure apart from the callback.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace bridge::tcia {

class JsonArrayStream {
public:
    /// element: the text of one top-level element (or the whole non-array body, wholeBody).
    using ElementCallback = std::function<void(std::string_view element, bool wholeBody)>;

    explicit JsonArrayStream(ElementCallback onElement, std::size_t maxElementBytes = 1u << 20);

    /// Consumes the next bytes of the body.
    void feed(const char* data, std::size_t size);
    /// The body ended. Throws BridgeError(UpstreamBadResponse) when an array was left open.
    void finish();
    /// Elements delivered so far.
    std::size_t elements() const noexcept { return elements_; }

private:
    enum class Mode { Start, InArray, NotArray, Done };
    void append(char c);
    void deliver();

    ElementCallback onElement_;
    std::size_t maxElementBytes_;
    Mode mode_ = Mode::Start;
    std::string current_;
    int depth_ = 0;  ///< nesting inside the current element
    bool inString_ = false, escaped_ = false;
    std::size_t elements_ = 0;
};

}  // namespace bridge::tcia
