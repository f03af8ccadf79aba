// Fuzzes the DIMSE identifier translation (dimse/IdentifierTranslator.h). Input: one selector
// byte, then a dataset without file meta as a peer sends it in a C-FIND / C-MOVE / C-GET
// (bits 0-1 of the selector: transfer syntax, see FuzzSupport.h; bit 2: Patient Root instead of
// Study Root). DCMTK parses the dataset as dcmnet would; the bridge's code then builds a Query, a
// RetrieveRequest, and the C-FIND response identifier of a record holding the query's values.
// Properties: only BridgeError(InvalidArgument) escapes; a Query names each tag once.
#include <set>

#include "dimse/IdentifierTranslator.h"
#include "fuzz/FuzzSupport.h"

using namespace bridge;
using namespace bridge::dimse;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::quietDcmtk();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t selector = data[0];
    auto identifier = fuzz::datasetFromBytes(data + 1, size - 1, fuzz::transferSyntaxOf(selector));
    if (!identifier) return 0;  // dcmnet would have refused the PDVs already
    const InformationModel model = (selector & 4) ? InformationModel::PatientRoot : InformationModel::StudyRoot;

    fuzz::expectOnlyBridgeError("identifierToQuery", ErrorCode::InvalidArgument, [&] {
        std::vector<std::string> warnings;
        Query query = identifierToQuery(*identifier, model, &warnings);
        std::set<DcmTagKey, TagLess> seen;
        DicomRecord record;
        for (const auto& k : query.keys) {
            if (!seen.insert(k.tag).second) fuzz::finding("identifierToQuery named a tag twice");
            record.set(k.tag, k.value);
        }
        // The response path: a match echoing the requested values back.
        auto response = recordToIdentifier(record, query, "TCIA");
        if (!response) fuzz::finding("recordToIdentifier returned null");
    });
    fuzz::expectOnlyBridgeError("identifierToRetrieveRequest", ErrorCode::InvalidArgument,
                                [&] { (void)identifierToRetrieveRequest(*identifier, model); });
    return 0;
}
