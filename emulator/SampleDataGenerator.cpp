#include "emulator/SampleDataGenerator.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

// The data tables below rely on aggregate initialisation with trailing defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace emulator {

namespace fs = std::filesystem;

namespace {

enum class Kind { Image, MultiFrame, TextSr };
enum class Syntax { ExplicitLE, ImplicitLE, JpegLossless, JpegLsLossless };

struct Collection {
    std::string name, licenseName, licenseUri, doi, released, site;
    bool restricted = false;
};

struct Patient {
    std::string id, name, sex, age;
    bool utf8 = false;     // SpecificCharacterSet ISO_IR 192 (the one non-ASCII name)
    bool phantom = false;  // QualityControlSubject YES
};

struct Study {
    int number;
    std::string date, description, studyId, eventType;
    double offset = -1;
};

struct Series {
    int number;  // global series counter -> UIDs
    int seriesNumber;
    Kind kind;
    std::string modality, description, bodyPart, protocol, manufacturer, model, software;
    int size = 64;
    int count = 1;           // instances (Image) or frames (MultiFrame)
    Syntax syntax = Syntax::ExplicitLE;
    bool twoAcquisitions = false;
    std::string dateReleased, thirdParty;
    bool annotations = false;
};

struct Plan {
    int collection;
    Patient patient;
    Study study;
    std::vector<Series> series;
};

const std::string kRoot = SampleDataGenerator::kUidRoot;

std::string studyUid(int n) { return kRoot + ".1." + std::to_string(n); }
std::string seriesUid(int n) { return kRoot + ".2." + std::to_string(n); }
std::string sopUid(int series, int inst) { return kRoot + ".3." + std::to_string(series) + "." + std::to_string(inst); }
std::string frameOfReferenceUid(int study) { return kRoot + ".4." + std::to_string(study); }

void check(const OFCondition& c, const std::string& what) {
    if (c.bad()) throw std::runtime_error(what + ": " + c.text());
}

void put(DcmItem& item, const DcmTagKey& key, const std::string& value) {
    check(item.putAndInsertString(key, value.c_str()), "put " + DcmTag(key).toString().substr(0) );
}

// A synthetic phantom in Hounsfield units: a body ellipse, two lungs, a spine and a lesion that
// grows with z, so that every slice differs (CT). MR uses the same shapes with other contrasts.
double phantom(double x, double y, double z, bool mr) {
    auto inside = [](double px, double py, double cx, double cy, double rx, double ry) {
        const double dx = (px - cx) / rx, dy = (py - cy) / ry;
        return dx * dx + dy * dy <= 1.0;
    };
    if (!inside(x, y, 0, 0, 0.85, 0.65)) return mr ? 0 : -1000;
    double v = mr ? 400 : 40;
    if (inside(x, y, -0.4, -0.05, 0.25, 0.35) || inside(x, y, 0.4, -0.05, 0.25, 0.35)) v = mr ? 80 : -820;
    if (inside(x, y, 0, 0.45, 0.1, 0.1)) v = mr ? 150 : 700;
    const double lesion = 0.05 + 0.1 * std::fabs(std::sin(z * 0.7));
    if (inside(x, y, 0.35, 0.1, lesion, lesion)) v = mr ? 900 : 65;
    v += 10.0 * std::sin(x * 9.0 + z) * std::cos(y * 7.0);  // texture, keeps compression honest
    return v;
}

std::vector<Uint16> makePixels(int size, int slice, bool mr, double intercept) {
    std::vector<Uint16> px(static_cast<std::size_t>(size) * size);
    // Deterministic acquisition noise (+-12 units, xorshift32 seeded per slice) so that the
    // files compress like real CT/MR (roughly 2:1) rather than 30:1.
    std::uint32_t noise = 2463534242u ^ static_cast<std::uint32_t>(slice * 2654435761u);
    for (int r = 0; r < size; ++r)
        for (int c = 0; c < size; ++c) {
            const double x = (c + 0.5) / size * 2 - 1, y = (r + 0.5) / size * 2 - 1;
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            const double v = phantom(x, y, slice, mr) - intercept + static_cast<double>(noise % 25) - 12.0;
            px[static_cast<std::size_t>(r) * size + c] = static_cast<Uint16>(std::clamp(v, 0.0, 4095.0));
        }
    return px;
}

void putCommon(DcmDataset& ds, const Collection& coll, const Patient& pat, const Study& st, const Series& se,
               const std::string& sopClass, const std::string& sop, int instance) {
    if (pat.utf8) put(ds, DCM_SpecificCharacterSet, "ISO_IR 192");
    put(ds, DCM_SOPClassUID, sopClass);
    put(ds, DCM_SOPInstanceUID, sop);
    put(ds, DCM_StudyDate, st.date);
    put(ds, DCM_SeriesDate, st.date);
    put(ds, DCM_ContentDate, st.date);
    put(ds, DCM_StudyTime, "120000");
    put(ds, DCM_SeriesTime, "120500");
    put(ds, DCM_ContentTime, "121000");
    put(ds, DCM_AccessionNumber, "");
    put(ds, DCM_Modality, se.modality);
    put(ds, DCM_Manufacturer, se.manufacturer);
    put(ds, DCM_ReferringPhysicianName, "");
    put(ds, DCM_StudyDescription, st.description);
    put(ds, DCM_SeriesDescription, se.description);
    put(ds, DCM_ManufacturerModelName, se.model);
    put(ds, DCM_PatientName, pat.name);
    put(ds, DCM_PatientID, pat.id);
    put(ds, DCM_PatientBirthDate, "");  // removed by de-identification (type 2)
    put(ds, DCM_PatientSex, pat.sex);
    put(ds, DCM_PatientAge, pat.age);
    if (pat.phantom) put(ds, DCM_QualityControlSubject, "YES");
    // De-identified the TCIA way (CTP DICOM-S142-Baseline), see PS3.15 E.1.
    put(ds, DCM_PatientIdentityRemoved, "YES");
    put(ds, DCM_DeidentificationMethod, "CTP Default:  based on DICOM PS3.15 AnnexE. Details in 0012,0064");
    // Clinical Trial Subject/Study modules: the bridge reads the collection from ClinicalTrialProtocolID.
    put(ds, DCM_ClinicalTrialSponsorName, "The Cancer Imaging Archive (emulated)");
    put(ds, DCM_ClinicalTrialProtocolID, coll.name);
    put(ds, DCM_ClinicalTrialProtocolName, coll.name);
    put(ds, DCM_ClinicalTrialSiteID, "12345678");
    put(ds, DCM_ClinicalTrialSiteName, coll.site);
    put(ds, DCM_ClinicalTrialSubjectID, pat.id);
    if (!st.eventType.empty()) {
        put(ds, DCM_LongitudinalTemporalEventType, st.eventType);
        check(ds.putAndInsertFloat64(DCM_LongitudinalTemporalOffsetFromEvent, st.offset), "offset");
    }
    // CTP private group 0013 naming the project (PrivateCreator "CTP").
    check(ds.putAndInsertString(DcmTag(0x0013, 0x0010, EVR_LO), "CTP"), "ctp creator");
    check(ds.putAndInsertString(DcmTag(0x0013, 0x1010, EVR_LO), coll.name.c_str()), "ctp project");
    check(ds.putAndInsertString(DcmTag(0x0013, 0x1013, EVR_LO), "12345678"), "ctp site id");
    if (!se.bodyPart.empty()) put(ds, DCM_BodyPartExamined, se.bodyPart);
    if (!se.protocol.empty()) put(ds, DCM_ProtocolName, se.protocol);
    put(ds, DCM_SoftwareVersions, se.software);
    put(ds, DCM_StudyInstanceUID, studyUid(st.number));
    put(ds, DCM_SeriesInstanceUID, seriesUid(se.number));
    put(ds, DCM_StudyID, st.studyId);
    put(ds, DCM_SeriesNumber, std::to_string(se.seriesNumber));
    put(ds, DCM_InstanceNumber, std::to_string(instance));
}

void putImagePixels(DcmDataset& ds, int size, const std::vector<Uint16>& pixels, int frames) {
    check(ds.putAndInsertUint16(DCM_SamplesPerPixel, 1), "spp");
    put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
    check(ds.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(size)), "rows");
    check(ds.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(size)), "cols");
    check(ds.putAndInsertUint16(DCM_BitsAllocated, 16), "ba");
    check(ds.putAndInsertUint16(DCM_BitsStored, 12), "bs");
    check(ds.putAndInsertUint16(DCM_HighBit, 11), "hb");
    check(ds.putAndInsertUint16(DCM_PixelRepresentation, 0), "pr");
    if (frames > 1) put(ds, DCM_NumberOfFrames, std::to_string(frames));
    check(ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size())), "pixels");
}

E_TransferSyntax xferOf(Syntax s) {
    switch (s) {
        case Syntax::ImplicitLE: return EXS_LittleEndianImplicit;
        case Syntax::JpegLossless: return EXS_JPEGProcess14SV1;
        case Syntax::JpegLsLossless: return EXS_JPEGLSLossless;
        default: return EXS_LittleEndianExplicit;
    }
}

// The encoders pad odd-length fragments to even length (PS3.5 A.4) without initialising the pad
// byte, which made regenerated files differ by one byte. Zero every byte after the EOI marker.
void zeroFragmentPadding(DcmDataset& ds, E_TransferSyntax xfer, const DcmRepresentationParameter* param) {
    DcmElement* element = nullptr;
    if (ds.findAndGetElement(DCM_PixelData, element).bad()) return;
    auto* pixelData = static_cast<DcmPixelData*>(element);
    DcmPixelSequence* sequence = nullptr;
    if (pixelData->getEncapsulatedRepresentation(xfer, param, sequence).bad() || !sequence)
        throw std::runtime_error("no encapsulated pixel data after encoding");
    for (unsigned long i = 1; i < sequence->card(); ++i) {  // item 0 is the Basic Offset Table
        DcmPixelItem* item = nullptr;
        if (sequence->getItem(item, i).bad() || !item) continue;
        Uint8* bytes = nullptr;
        if (item->getUint8Array(bytes).bad() || !bytes) continue;
        const unsigned long length = item->getLength();
        if (length >= 3 && bytes[length - 3] == 0xFF && bytes[length - 2] == 0xD9) {
            bytes[length - 1] = 0;
        } else if (length % 2 == 1) {  // odd: the writer would pad with whatever follows in memory
            std::vector<Uint8> padded(bytes, bytes + length);
            padded.push_back(0);
            item->putUint8Array(padded.data(), static_cast<unsigned long>(padded.size()));
        }
    }
}

void save(DcmFileFormat& ff, const fs::path& path, Syntax syntax) {
    DcmDataset& ds = *ff.getDataset();
    const E_TransferSyntax xfer = xferOf(syntax);
    if (syntax == Syntax::JpegLossless) {
        DJ_RPLossless params(1, 0);  // first-order prediction (selection value 1), no point transform
        check(ds.chooseRepresentation(xfer, &params), "JPEG lossless encode");
        zeroFragmentPadding(ds, xfer, &params);
    } else if (syntax == Syntax::JpegLsLossless) {
        DJLSRepresentationParameter params(0, OFTrue);
        check(ds.chooseRepresentation(xfer, &params), "JPEG-LS encode");
        zeroFragmentPadding(ds, xfer, &params);
    }
    if (!ds.canWriteXfer(xfer)) throw std::runtime_error("cannot write " + path.string() + " in the requested syntax");
    check(ff.saveFile(path.c_str(), xfer, EET_ExplicitLength, EGL_recalcGL, EPD_noChange), "save " + path.string());
}

std::size_t writeSeries(const fs::path& dir, const Collection& coll, const Patient& pat, const Study& st,
                        const Series& se) {
    fs::create_directories(dir);
    std::size_t written = 0;
    const bool mr = se.modality == "MR";
    const double spacing = 320.0 / se.size;  // 32 cm field of view
    const double thickness = 5.0;
    if (se.kind == Kind::TextSr) {
        DcmFileFormat ff;
        DcmDataset& ds = *ff.getDataset();
        putCommon(ds, coll, pat, st, se, UID_BasicTextSRStorage, sopUid(se.number, 1), 1);
        put(ds, DCM_ValueType, "CONTAINER");
        put(ds, DCM_ContinuityOfContent, "SEPARATE");
        put(ds, DCM_CompletionFlag, "COMPLETE");
        put(ds, DCM_VerificationFlag, "UNVERIFIED");
        DcmItem* conceptItem = nullptr;
        check(ds.findOrCreateSequenceItem(DCM_ConceptNameCodeSequence, conceptItem, 0), "conceptItem");
        put(*conceptItem, DCM_CodeValue, "11528-7");
        put(*conceptItem, DCM_CodingSchemeDesignator, "LN");
        put(*conceptItem, DCM_CodeMeaning, "Radiology Report");
        check(ds.insertEmptyElement(DCM_ReferencedPerformedProcedureStepSequence), "rpps");
        check(ds.insertEmptyElement(DCM_PerformedProcedureCodeSequence), "ppcs");
        DcmItem* text = nullptr;
        check(ds.findOrCreateSequenceItem(DCM_ContentSequence, text, 0), "content");
        put(*text, DCM_RelationshipType, "CONTAINS");
        put(*text, DCM_ValueType, "TEXT");
        DcmItem* name = nullptr;
        check(text->findOrCreateSequenceItem(DCM_ConceptNameCodeSequence, name, 0), "text conceptItem");
        put(*name, DCM_CodeValue, "121071");
        put(*name, DCM_CodingSchemeDesignator, "DCM");
        put(*name, DCM_CodeMeaning, "Finding");
        put(*text, DCM_TextValue, "Synthetic report: 12 mm nodule in the right lower lobe, stable. No new lesions.");
        save(ff, dir / "0001.dcm", se.syntax);
        return 1;
    }
    if (se.kind == Kind::MultiFrame) {
        DcmFileFormat ff;
        DcmDataset& ds = *ff.getDataset();
        putCommon(ds, coll, pat, st, se, UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage, sopUid(se.number, 1), 1);
        put(ds, DCM_ConversionType, "WSD");
        put(ds, DCM_BurnedInAnnotation, "NO");
        put(ds, DCM_PresentationLUTShape, "IDENTITY");
        put(ds, DCM_PatientOrientation, "");
        put(ds, DCM_ImageType, "DERIVED\\SECONDARY\\MPR");
        std::vector<Uint16> all;
        std::string locations;
        for (int f = 0; f < se.count; ++f) {
            auto frame = makePixels(se.size, f, false, -1024);
            all.insert(all.end(), frame.begin(), frame.end());
            locations += (f ? "\\" : "") + std::to_string(f * 5);
        }
        // FrameIncrementPointer -> SliceLocationVector (PS3.3 C.8.6.3 / C.7.6.6).
        check(ds.putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_SliceLocationVector), "fip");
        put(ds, DCM_SliceLocationVector, locations);
        put(ds, DCM_RescaleIntercept, "-1024");
        put(ds, DCM_RescaleSlope, "1");
        put(ds, DCM_RescaleType, "HU");
        put(ds, DCM_WindowCenter, "40");
        put(ds, DCM_WindowWidth, "400");
        put(ds, DCM_PixelSpacing, "5\\5");
        putImagePixels(ds, se.size, all, se.count);
        save(ff, dir / "0001.dcm", se.syntax);
        return 1;
    }
    for (int i = 1; i <= se.count; ++i) {
        DcmFileFormat ff;
        DcmDataset& ds = *ff.getDataset();
        putCommon(ds, coll, pat, st, se, mr ? UID_MRImageStorage : UID_CTImageStorage, sopUid(se.number, i), i);
        const int acquisition = se.twoAcquisitions && i > se.count / 2 ? 2 : 1;
        put(ds, DCM_AcquisitionNumber, std::to_string(acquisition));
        put(ds, DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
        put(ds, DCM_FrameOfReferenceUID, frameOfReferenceUid(st.number));
        put(ds, DCM_PositionReferenceIndicator, "");
        put(ds, DCM_PatientPosition, "HFS");
        // Laterality (PS3.3 C.7.3.1, Type 2C): for paired parts, and (dciodvfy) unknown parts.
        if (se.bodyPart == "KNEE") put(ds, DCM_Laterality, "R");
        if (se.bodyPart == "PHANTOM") put(ds, DCM_Laterality, "");
        char buf[128];
        const double z = -100.0 + (i - 1) * thickness;
        std::snprintf(buf, sizeof buf, "%.4g\\%.4g\\%.4g", -160.0 + spacing / 2, -160.0 + spacing / 2, z);
        put(ds, DCM_ImagePositionPatient, buf);
        put(ds, DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
        std::snprintf(buf, sizeof buf, "%.4g", z);
        put(ds, DCM_SliceLocation, buf);
        std::snprintf(buf, sizeof buf, "%.6g\\%.6g", spacing, spacing);
        put(ds, DCM_PixelSpacing, buf);
        put(ds, DCM_SliceThickness, "5");
        double intercept = 0;
        if (mr) {
            put(ds, DCM_ScanningSequence, "SE");
            put(ds, DCM_SequenceVariant, "NONE");
            put(ds, DCM_ScanOptions, "");
            put(ds, DCM_MRAcquisitionType, "2D");
            put(ds, DCM_RepetitionTime, "500");
            put(ds, DCM_EchoTime, "15");
            put(ds, DCM_EchoTrainLength, "1");
            put(ds, DCM_MagneticFieldStrength, "1.5");
            put(ds, DCM_WindowCenter, "500");
            put(ds, DCM_WindowWidth, "1000");
        } else {
            intercept = -1024;
            put(ds, DCM_KVP, "120");
            put(ds, DCM_RescaleIntercept, "-1024");
            put(ds, DCM_RescaleSlope, "1");
            put(ds, DCM_RescaleType, "HU");
            put(ds, DCM_WindowCenter, "40");
            put(ds, DCM_WindowWidth, "400");
        }
        putImagePixels(ds, se.size, makePixels(se.size, i, mr, intercept), 1);
        std::snprintf(buf, sizeof buf, "%04d.dcm", i);
        save(ff, dir / buf, se.syntax);
        ++written;
    }
    return written;
}

std::string jsonQuote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::vector<Collection> collections(bool large, std::int64_t manySlices) {
    std::vector<Collection> c{
        {"TCGA-DEMO-CT", "Creative Commons Attribution 3.0 Unported License", "http://creativecommons.org/licenses/by/3.0/",
         "https://doi.org/10.7937/TCIA.DEMO.CT01", "20150527171221", "Site A"},
        {"RIDER-Demo-MR", "Creative Commons Attribution 4.0 International License",
         "https://creativecommons.org/licenses/by/4.0/", "https://doi.org/10.7937/TCIA.DEMO.MR02", "20160721093000",
         "Site B"},
        {"Phantom-Mixed", "Creative Commons Attribution-NonCommercial 4.0 International License",
         "https://creativecommons.org/licenses/by-nc/4.0/", "https://doi.org/10.7937/TCIA.DEMO.PH03", "20190201080000",
         "Site C"},
        {"Restricted-Demo", "TCIA Restricted License Agreement",
         "https://www.cancerimagingarchive.net/data-usage-policies-and-restrictions/",
         "https://doi.org/10.7937/TCIA.DEMO.RS04", "20201001120000", "Site D", true},
    };
    if (large)
        c.push_back({"Large-CT-Demo", "Creative Commons Attribution 4.0 International License",
                     "https://creativecommons.org/licenses/by/4.0/", "https://doi.org/10.7937/TCIA.DEMO.LG05",
                     "20210301100000", "Site E"});
    if (manySlices > 0)
        c.push_back({"Many-Slices-Demo", "Creative Commons Attribution 4.0 International License",
                     "https://creativecommons.org/licenses/by/4.0/", "https://doi.org/10.7937/TCIA.DEMO.MS06",
                     "20220401100000", "Site F"});
    return c;
}

std::vector<Plan> plans(bool large, std::int64_t manySlices) {
    const std::string ge = "GE MEDICAL SYSTEMS", siemens = "SIEMENS", philips = "Philips Medical Systems";
    const Patient p1{"TCGA-DM-0001", "TCGA-DM-0001", "M", "061Y"};
    const Patient p2{"TCGA-DM-0002", "TCGA-DM-0002", "F", "054Y"};
    const Patient r1{"RIDER-D-1001", "RIDER-D-1001", "F", "045Y"};
    const Patient shared{"SHARED-0007", "SHARED-0007", "M", "070Y"};
    // The one exception to PatientName == PatientID: a non-ASCII name in UTF-8 (ISO_IR 192).
    const Patient muller{"RIDER-D-1003", "M\xC3\xBCller^J\xC3\xBCrgen", "M", "038Y", true};
    // Second exception: an empty (present) PatientName, like LIDC-IDRI's "PatientName": "".
    const Patient acr{"PHANTOM-ACR-01", "", "O", "", false, true};
    const Patient restricted{"RESTR-0001", "RESTR-0001", "F", "066Y"};
    std::vector<Plan> out{
        {0, p1, {1, "20010314", "CT CHEST W CONTRAST", "1001", "ENROLLMENT", 0},
         {{1, 2, Kind::Image, "CT", "AXIAL CHEST 5mm", "CHEST", "CHEST ROUTINE", ge, "LightSpeed VCT", "07MW18.4", 64, 10,
           Syntax::ExplicitLE},
          {2, 3, Kind::Image, "CT", "AXIAL CHEST LUNG KERNEL", "CHEST", "CHEST ROUTINE", ge, "LightSpeed VCT", "07MW18.4",
           64, 8, Syntax::JpegLossless}}},
        {0, p1, {2, "20020620", "CT CHEST FOLLOW-UP", "1002", "FOLLOWUP", 463},
         {{3, 2, Kind::Image, "CT", "FOLLOW-UP CHEST", "CHEST", "", ge, "LightSpeed VCT", "07MW18.4", 64, 6,
           Syntax::ImplicitLE, false, "20170310120000"},
          {4, 100, Kind::TextSr, "SR", "RADIOLOGY REPORT", "", "", "TCIA Emulator", "Report Writer", "1.0", 0, 1,
           Syntax::ExplicitLE, false, "20170310120000", "YES", true}}},
        {0, p2, {3, "20030905", "CT ABDOMEN/PELVIS", "2001"},
         {{5, 4, Kind::Image, "CT", "ABD PELVIS 3mm", "ABDOMEN", "ABD/PELVIS", siemens, "SOMATOM Definition", "syngo CT 2012B",
           64, 12, Syntax::ExplicitLE, true},
          {6, 5, Kind::MultiFrame, "OT", "CORONAL MPR (multi-frame)", "ABDOMEN", "", siemens, "syngo.via", "VB30", 64, 8,
           Syntax::ExplicitLE, false, "20180115120000"}}},
        {1, r1, {4, "20050111", "MRI BRAIN W/WO CONTRAST", "3001"},
         {{7, 1, Kind::Image, "MR", "AX T1", "BRAIN", "T1 SE", philips, "Ingenia", "5.1.7", 64, 6, Syntax::JpegLsLossless},
          {8, 2, Kind::Image, "MR", "AX T2 FLAIR", "BRAIN", "FLAIR", philips, "Ingenia", "5.1.7", 64, 6,
           Syntax::ExplicitLE}}},
        {1, shared, {5, "20060202", "MRI PELVIS", "3002"},
         {{9, 1, Kind::Image, "MR", "COR T2", "PELVIS", "T2 TSE", siemens, "Avanto", "syngo MR B17", 64, 5,
           Syntax::ImplicitLE}}},
        {1, muller, {6, "20070315", "MRI KNEE", "3003"},
         {{10, 1, Kind::Image, "MR", "SAG PD", "KNEE", "PD TSE", siemens, "Avanto", "syngo MR B17", 64, 5,
           Syntax::ExplicitLE}}},
        {2, shared, {7, "20080808", "PHANTOM CT QA", "4001"},
         {{11, 1, Kind::Image, "CT", "WATER PHANTOM", "PHANTOM", "QA", "TOSHIBA", "Aquilion", "V4.51", 64, 5,
           Syntax::ExplicitLE}}},
        {2, acr, {8, "20090101", "ACR MR PHANTOM", "4002"},
         {{12, 1, Kind::Image, "MR", "ACR T1", "PHANTOM", "ACR", philips, "Achieva", "3.2.1", 64, 5, Syntax::ExplicitLE}}},
        {3, restricted, {9, "20100505", "CT HEAD", "5001"},
         {{13, 1, Kind::Image, "CT", "AXIAL HEAD", "HEAD", "HEAD ROUTINE", ge, "Revolution CT", "rev.1", 64, 5,
           Syntax::ExplicitLE}}},
    };
    if (large)
        out.push_back({4, {"LARGE-0001", "LARGE-0001", "M", "059Y"}, {10, "20110606", "CT CHEST LARGE", "6001"},
                       {{14, 1, Kind::Image, "CT", "AXIAL CHEST 1mm 512", "CHEST", "CHEST HR", ge, "Revolution CT",
                         "rev.1", 512, 300, Syntax::ExplicitLE}}});
    if (manySlices > 0)  // one series of many tiny slices: > 1,000 objects in one S3 prefix
        out.push_back({large ? 5 : 4, {"MANY-0001", "MANY-0001", "F", "047Y"}, {11, "20120707", "CT THIN SLICES", "7001"},
                       {{15, 1, Kind::Image, "CT", "AXIAL 0.5mm 16x16", "CHEST", "CHEST THIN", ge, "Revolution CT",
                         "rev.1", 16, static_cast<int>(manySlices), Syntax::ExplicitLE}}});
    return out;
}

void registerCodecs() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::WARN_LOG_LEVEL);  // the codecs log every frame at INFO
        DJEncoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
    });
}

}  // namespace

std::size_t SampleDataGenerator::generate(const GenerateOptions& options) {
    if (options.manySlices < 0 || options.manySlices > 9999)
        throw std::runtime_error("--many-slices must be 1-9999 (file names NNNN.dcm)");
    const fs::path out(options.outDir);
    fs::create_directories(out);
    fs::remove(out / ".complete");
    fs::remove(out / "synthetic.json");
    std::size_t written = 0;

    if (options.syntheticStudies > 0) {
        std::ofstream(out / "collections.json") << "{\"collections\":[],\"series\":{}}\n";
        std::ofstream(out / "synthetic.json")
            << "{\"studies\":" << options.syntheticStudies << ",\"seriesPerStudy\":" << options.seriesPerStudy
            << ",\"collections\":" << options.syntheticCollections << "}\n";
        std::ofstream(out / ".complete") << "synthetic\n";
        return 0;
    }

    registerCodecs();
    const auto colls = collections(options.large, options.manySlices);
    for (const auto& c : colls) fs::remove_all(out / c.name);
    std::string seriesJson;
    for (const auto& plan : plans(options.large, options.manySlices)) {
        const Collection& coll = colls[static_cast<std::size_t>(plan.collection)];
        for (const auto& se : plan.series) {
            const fs::path dir = out / coll.name / plan.patient.id / studyUid(plan.study.number) / seriesUid(se.number);
            written += writeSeries(dir, coll, plan.patient, plan.study, se);
            std::string extras;
            if (!se.dateReleased.empty())
                extras += "\"dateReleased\":" + jsonQuote(se.dateReleased) + ",\"maxSubmissionTimestamp\":" +
                          jsonQuote(se.dateReleased);
            if (!se.thirdParty.empty()) extras += std::string(extras.empty() ? "" : ",") + "\"thirdPartyAnalysis\":" + jsonQuote(se.thirdParty);
            if (se.annotations) extras += std::string(extras.empty() ? "" : ",") + "\"annotationsFlag\":true";
            if (!extras.empty()) {
                seriesJson += (seriesJson.empty() ? "" : ",\n    ") + jsonQuote(seriesUid(se.number)) + ":{" + extras + "}";
            }
        }
    }
    std::ofstream json(out / "collections.json");
    json << "{\n  \"collections\":[\n";
    for (std::size_t i = 0; i < colls.size(); ++i) {
        const auto& c = colls[i];
        json << "    {\"name\":" << jsonQuote(c.name) << ",\"licenseName\":" << jsonQuote(c.licenseName)
             << ",\"licenseUri\":" << jsonQuote(c.licenseUri) << ",\"doi\":" << jsonQuote(c.doi)
             << ",\"dateReleased\":" << jsonQuote(c.released) << ",\"site\":" << jsonQuote(c.site)
             << ",\"restricted\":" << (c.restricted ? "true" : "false") << "}" << (i + 1 < colls.size() ? "," : "")
             << "\n";
    }
    json << "  ],\n  \"series\":{\n    " << seriesJson << "\n  }\n}\n";
    json.close();
    if (!json) throw std::runtime_error("cannot write collections.json");
    std::ofstream(out / ".complete") << written << " files\n";
    return written;
}

}  // namespace emulator
