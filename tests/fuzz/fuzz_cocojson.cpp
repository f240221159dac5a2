// CocoJsonReader::parse: annotation files come from anywhere (downloads, other tools). Either
// a set whose every box names a known class and has a finite, non-negative size, or an error.

#include "fuzzsupport.h"
#include "eval/cocojsonreader.h"

#include <cmath>

using namespace edgelens;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QString error;
    const std::optional<GroundTruthSet> set = CocoJsonReader::parse(fuzz::bytes(data, size), QStringLiteral("fuzz.json"), &error);
    if (!set) {
        FUZZ_CHECK(!error.isEmpty(), QByteArray("refused without a reason"));
        return 0;
    }
    for (const GroundTruthImage &image : set->images) {
        for (const GroundTruthBox &box : image.boxes) {
            FUZZ_CHECK(box.classId >= 0 && box.classId < set->classNames.size(), QByteArray::number(box.classId));
            FUZZ_CHECK(std::isfinite(box.box.width()) && std::isfinite(box.box.height()), image.fileName.toUtf8());
        }
    }
    return 0;
}
