#include "dimse/TlsNegotiation.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bridge::dimse {
namespace {

constexpr std::size_t kHeaderBytes = 6;  // PS3.8 9.3.1: type, reserved, 32-bit length
constexpr std::uint8_t kAssociateRequestType = 0x01;

/// Reads exactly `n` bytes into `out` (appended); false on end of stream, error or deadline.
bool readExactly(DcmTransportConnection& connection, std::size_t n,
                 std::chrono::steady_clock::time_point deadline, std::vector<std::uint8_t>& out) {
    const std::size_t start = out.size();
    out.resize(start + n);
    std::size_t got = 0;
    while (got < n) {
        errno = 0;
        ssize_t r = connection.read(out.data() + start + got, n - got);
        if (r > 0) {
            got += static_cast<std::size_t>(r);
            continue;
        }
        // SSL_read on a blocking socket: -1 with EINTR (a signal) or EAGAIN (SO_RCVTIMEO).
        const bool retry = r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK);
        if (!retry || std::chrono::steady_clock::now() >= deadline) return false;
    }
    return true;
}

}  // namespace

AssociateRequestWait readAssociateRequest(DcmTransportConnection& connection, std::size_t maxPduBytes,
                                          std::chrono::steady_clock::time_point deadline,
                                          std::vector<std::uint8_t>& pdu) {
    pdu.clear();
    if (!readExactly(connection, 1, deadline, pdu)) return AssociateRequestWait::Closed;
    if (pdu[0] != kAssociateRequestType) return AssociateRequestWait::NotAssociateRequest;
    if (!readExactly(connection, kHeaderBytes - 1, deadline, pdu)) return AssociateRequestWait::Closed;
    const std::uint32_t length = (std::uint32_t{pdu[2]} << 24) | (std::uint32_t{pdu[3]} << 16) |
                                 (std::uint32_t{pdu[4]} << 8) | std::uint32_t{pdu[5]};
    if (length > maxPduBytes) return AssociateRequestWait::TooLarge;
    if (!readExactly(connection, length, deadline, pdu)) return AssociateRequestWait::Closed;
    return AssociateRequestWait::Ready;
}

PrereadConnection::PrereadConnection(DcmTransportConnection* inner, DcmNativeSocketType socket,
                                     std::vector<std::uint8_t> preread)
    : DcmTransportConnection(socket), inner_(inner), preread_(std::move(preread)) {}

PrereadConnection::~PrereadConnection() { delete inner_; }

OFCondition PrereadConnection::serverSideHandshake() { return EC_Normal; }
OFCondition PrereadConnection::clientSideHandshake() { return inner_->clientSideHandshake(); }
OFCondition PrereadConnection::renegotiate(const char* newSuite) { return inner_->renegotiate(newSuite); }

ssize_t PrereadConnection::read(void* buf, size_t nbyte) {
    if (consumed_ < preread_.size()) {
        const std::size_t n = std::min(nbyte, preread_.size() - consumed_);
        std::memcpy(buf, preread_.data() + consumed_, n);
        consumed_ += n;
        if (consumed_ == preread_.size()) {
            std::vector<std::uint8_t>().swap(preread_);  // not needed any more
            consumed_ = 0;
        }
        return static_cast<ssize_t>(n);
    }
    return inner_->read(buf, nbyte);
}

ssize_t PrereadConnection::write(void* buf, size_t nbyte) { return inner_->write(buf, nbyte); }

void PrereadConnection::close() {
    inner_->close();
    setSocket(-1);
}

void PrereadConnection::closeTransportConnection() {
    inner_->closeTransportConnection();
    setSocket(-1);
}

unsigned long PrereadConnection::getPeerCertificateLength() { return inner_->getPeerCertificateLength(); }
unsigned long PrereadConnection::getPeerCertificate(void* buf, unsigned long bufLen) {
    return inner_->getPeerCertificate(buf, bufLen);
}

OFBool PrereadConnection::networkDataAvailable(int timeout) {
    return consumed_ < preread_.size() ? OFTrue : inner_->networkDataAvailable(timeout);
}

OFBool PrereadConnection::isTransparentConnection() { return inner_->isTransparentConnection(); }
OFString& PrereadConnection::dumpConnectionParameters(OFString& str) {
    return inner_->dumpConnectionParameters(str);
}

DcmTransportConnection* PreparedConnectionLayer::createConnection(DcmNativeSocketType, OFBool) {
    return takeBack();
}

}  // namespace bridge::dimse
