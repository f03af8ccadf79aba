// Fuzzes the streaming getImage ZIP reader (bridge/tcia/ZipStreamReader.h) and its md5hashes.csv
// parser. Input: the bytes of a getImage response body. Properties: only
// BridgeError(UpstreamBadResponse) escapes; every delivered entry carries the MD5 of its bytes.
#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>

#include <sstream>

#include "bridge/tcia/ZipStreamReader.h"
#include "fuzz/FuzzSupport.h"

using namespace bridge;
using namespace bridge::tcia;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    ZipStreamReader reader(in, nullptr);
    fuzz::expectOnlyBridgeError("ZipStreamReader::readAll", ErrorCode::UpstreamBadResponse, [&] {
        reader.readAll([](ZipStreamReader::Entry&& entry) {
            Poco::MD5Engine md5;
            md5.update(entry.bytes.data(), entry.bytes.size());
            if (Poco::DigestEngine::digestToHex(md5.digest()) != entry.md5Hex)
                fuzz::finding("entry '" + entry.name + "' delivered with a wrong MD5");
        });
    });
    try {
        (void)ZipStreamReader::parseMd5Csv(std::string_view(reinterpret_cast<const char*>(data), size));
        (void)ZipStreamReader::isSkippedEntry(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const std::exception& e) {
        fuzz::finding(std::string("parseMd5Csv threw: ") + e.what());
    }
    return 0;
}
