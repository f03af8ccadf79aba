#pragma once
// Test helpers (header-only) for the catalog unit tests: a Catalog over an in-memory
// FakeTciaApi (fake.generate(1, 3, 5)) in a temporary cache directory, with a
// settable clock (epoch seconds, 2023-11-14) and a 1 h TTL; seriesOf() builds a collection's
// series filter. Not thread-safe itself (the Catalog is).

#include "FakeTciaApi.h"
#include "bridge/catalog/Catalog.h"
#include "tests/support/TestSupport.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace bridge::test {

/// The series filter of one collection.
inline tcia::SeriesFilter seriesOf(const std::string& collection) {
    tcia::SeriesFilter f;
    f.collection = collection;
    return f;
}

struct CatalogFixture {
    TempDir dir;
    FakeTciaApi fake;
    std::int64_t clock = 1'700'000'000;  // 2023-11-14; the catalog reads it through setClock
    CatalogSettings settings;
    CacheSettings cache;
    std::unique_ptr<Catalog> catalog;

    CatalogFixture() {
        fake.generate(1, 3, 5);
        settings.ttl = std::chrono::seconds(3600);
        cache.directory = dir.path();
        open();
    }
    /// (Re)opens the catalog on the same directory (the old one is closed first).
    void open() {
        catalog.reset();
        catalog = std::make_unique<Catalog>(settings, cache, fake);
        catalog->setClock([this] { return clock; });
    }
    /// Stores one collection's whole harvest as the background harvester would.
    void harvest(const std::string& collection) {
        catalog->storeCollectionHarvest(collection, fake.patients({collection, ""}, RequestContext()),
                                        fake.studies({collection, "", ""}, RequestContext()),
                                        fake.series(seriesOf(collection), RequestContext()));
    }
};

}  // namespace bridge::test
