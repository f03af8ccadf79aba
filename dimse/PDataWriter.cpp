#include "dimse/PDataWriter.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "dimse/AssociationSocket.h"

namespace bridge::dimse {
namespace {

constexpr std::uint8_t kPDataTf = 0x04;
constexpr std::uint8_t kCommandBit = 0x01;
constexpr std::uint8_t kLastBit = 0x02;

void putBigEndian32(std::uint8_t* out, std::uint32_t value) {
    out[0] = static_cast<std::uint8_t>(value >> 24);
    out[1] = static_cast<std::uint8_t>(value >> 16);
    out[2] = static_cast<std::uint8_t>(value >> 8);
    out[3] = static_cast<std::uint8_t>(value);
}

void appendFragments(PDataPlan& plan, std::uint8_t presId, std::span<const std::uint8_t> bytes,
                     std::uint8_t typeBit, std::size_t maxFragment) {
    for (std::size_t offset = 0; offset < bytes.size();) {
        const std::size_t length = std::min(maxFragment, bytes.size() - offset);
        const bool last = offset + length == bytes.size();
        auto& header = plan.headers.emplace_back();
        header[0] = kPDataTf;
        header[1] = 0;
        putBigEndian32(&header[2], static_cast<std::uint32_t>(length + 6));  // PDU: item length + item
        putBigEndian32(&header[6], static_cast<std::uint32_t>(length + 2));  // PDV item: id + MCH + data
        header[10] = presId;
        header[11] = static_cast<std::uint8_t>(typeBit | (last ? kLastBit : 0));
        plan.iov.push_back({header.data(), header.size()});  // headers never reallocate (reserved)
        plan.iov.push_back({const_cast<std::uint8_t*>(bytes.data() + offset), length});
        plan.totalBytes += header.size() + length;
        offset += length;
    }
}

OFCondition ioError(const std::string& what) {
    return makeDcmnetCondition(DULC_TCPIOERROR, OF_error, ("TCP I/O Error (" + what + ") writing P-DATA").c_str());
}

}  // namespace

OFCondition writeIov(int fd, std::vector<iovec>& iov) {
    std::size_t next = 0;
    while (next < iov.size()) {
        const int count = static_cast<int>(std::min<std::size_t>(iov.size() - next, IOV_MAX));
        const ssize_t written = ::writev(fd, &iov[next], count);
        if (written < 0) {
            if (errno == EINTR) continue;
            return ioError(std::strerror(errno));
        }
        if (written == 0) return ioError("connection closed");
        auto left = static_cast<std::size_t>(written);
        while (next < iov.size() && left >= iov[next].iov_len) left -= iov[next++].iov_len;
        if (left > 0) {
            iov[next].iov_base = static_cast<std::uint8_t*>(iov[next].iov_base) + left;
            iov[next].iov_len -= left;
        }
    }
    return EC_Normal;
}

namespace {

OFCondition writeWithDul(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                         std::span<const std::uint8_t> command, std::span<const std::uint8_t> dataset) {
    DUL_PDV pdvs[2]{};
    unsigned long count = 0;
    for (auto [bytes, type] : {std::pair{command, DUL_COMMANDPDV}, std::pair{dataset, DUL_DATASETPDV}}) {
        if (bytes.empty()) continue;
        DUL_PDV& pdv = pdvs[count++];
        pdv.fragmentLength = static_cast<unsigned long>(bytes.size());
        pdv.presentationContextID = presId;
        pdv.pdvType = type;
        pdv.lastPDV = OFTrue;
        pdv.data = const_cast<std::uint8_t*>(bytes.data());  // DUL only reads it
    }
    DUL_PDVLIST list{};
    list.count = count;
    list.pdv = pdvs;
    Cork cork(assoc);  // DUL writes each PDU header and fragment separately
    return DUL_WritePDVs(&assoc->DULassociation, &list);
}

}  // namespace

PDataPlan planPData(std::uint8_t presId, std::span<const std::uint8_t> command,
                    std::span<const std::uint8_t> dataset, std::size_t maxFragment) {
    PDataPlan plan;
    const std::size_t pdus = (command.size() + maxFragment - 1) / maxFragment +
                             (dataset.size() + maxFragment - 1) / maxFragment;
    plan.headers.reserve(pdus);  // iov keeps pointers into headers: no reallocation after this
    plan.iov.reserve(2 * pdus);
    appendFragments(plan, presId, command, kCommandBit, maxFragment);
    appendFragments(plan, presId, dataset, 0, maxFragment);
    return plan;
}

OFCondition writeDimseMessage(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                              std::span<const std::uint8_t> command, std::span<const std::uint8_t> dataset) {
    const int fd = plainAssociationSocket(assoc);
    const unsigned long maxFragment = assoc ? assoc->sendPDVLength : 0;
    if (fd < 0 || maxFragment < 2) return writeWithDul(assoc, presId, command, dataset);
    PDataPlan plan = planPData(presId, command, dataset, maxFragment);
    return writeIov(fd, plan.iov);
}

}  // namespace bridge::dimse
