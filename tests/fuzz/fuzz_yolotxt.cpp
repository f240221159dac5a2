// YoloTxtReader::parse: one label file per image, "class cx cy w h" per line in fractions of
// the image. Either boxes of known classes with finite coordinates, or an error naming the line.
//
// Input: bytes 0-1 the image width, 2-3 its height, 4 the class count (0: any), the rest the file.

#include "fuzzsupport.h"
#include "eval/yolotxtreader.h"

#include <QSize>

#include <cmath>

using namespace edgelens;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    const QSize imageSize(data[0] | data[1] << 8, data[2] | data[3] << 8);
    const int classCount = data[4];
    QString error;
    const auto boxes = YoloTxtReader::parse(fuzz::bytes(data + 5, size - 5), imageSize, classCount,
                                            QStringLiteral("fuzz.txt"), &error);
    if (!boxes) {
        FUZZ_CHECK(!error.isEmpty(), QByteArray("refused without a reason"));
        return 0;
    }
    for (const GroundTruthBox &box : *boxes) {
        FUZZ_CHECK(box.classId >= 0 && (classCount == 0 || box.classId < classCount), QByteArray::number(box.classId));
        FUZZ_CHECK(std::isfinite(box.box.x()) && std::isfinite(box.box.y()) && std::isfinite(box.box.width())
                       && std::isfinite(box.box.height()),
                   QByteArray("a box that is not finite"));
    }
    return 0;
}
