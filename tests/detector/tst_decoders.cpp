#include "detector/darknetdecoder.h"
#include "detector/decoder.h"
#include "detector/fastestdetdecoder.h"
#include "detector/imagepreprocessor.h"
#include "detector/nanodetdecoder.h"
#include "detector/nms.h"
#include "detector/ssddecoder.h"
#include "detector/yolov5decoder.h"
#include "detector/yolov8decoder.h"
#include "detector/yoloxdecoder.h"

#include <QJsonArray>
#include <QTest>

#include <cmath>

using namespace edgelens;

namespace {

constexpr int kClasses = 80;

float logit(float p)
{
    return std::log(p / (1.0f - p));
}

cv::Mat tensor(std::vector<int> shape)
{
    return cv::Mat(int(shape.size()), shape.data(), CV_32F, cv::Scalar::all(0));
}

bool near(const cv::Rect2f &a, const cv::Rect2f &b, float tolerance = 0.01f)
{
    return std::abs(a.x - b.x) < tolerance && std::abs(a.y - b.y) < tolerance && std::abs(a.width - b.width) < tolerance
        && std::abs(a.height - b.height) < tolerance;
}

QByteArray describe(const std::vector<Candidate> &c)
{
    QByteArray text;
    for (const Candidate &x : c)
        text += QByteArray::number(x.classId) + ":" + QByteArray::number(x.score) + " (" + QByteArray::number(x.box.x)
            + "," + QByteArray::number(x.box.y) + "," + QByteArray::number(x.box.width) + ","
            + QByteArray::number(x.box.height) + ") ";
    return text;
}

// A square-input COCO manifest of a family, for Decoder::create.
ModelManifest manifestOf(const QString &family, int side, const QJsonObject &decoder = {})
{
    ModelManifest m;
    m.name = family + QStringLiteral("-test");
    m.family = family;
    m.inputWidth = side;
    m.inputHeight = side;
    m.classNames = ModelManifest::cocoClassNames();
    m.decoder = decoder;
    return m;
}

} // namespace

class TestDecoders : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void yolov5_rowWithObjectnessTimesClass_isDecoded()
    {
        cv::Mat out = tensor({1, 3, 5 + kClasses});
        float *r0 = out.ptr<float>() ;
        // cx, cy, w, h in input pixels, obj 0.9, class 16 (dog) 0.8
        r0[0] = 100; r0[1] = 200; r0[2] = 40; r0[3] = 60; r0[4] = 0.9f; r0[5 + 16] = 0.8f; r0[5 + 3] = 0.1f;
        float *r1 = r0 + (5 + kClasses);
        r1[0] = 300; r1[1] = 300; r1[2] = 10; r1[3] = 10; r1[4] = 0.3f; r1[5 + 0] = 0.9f; // 0.27 total
        // row 2 stays all zero
        std::vector<Candidate> c;
        QString error;
        QVERIFY(Yolov5Decoder(kClasses).decode({out}, 0.25f, c, &error));
        QCOMPARE(c.size(), size_t(2));
        QCOMPARE(c[0].classId, 16);
        QVERIFY(std::abs(c[0].score - 0.72f) < 1e-5f);
        QVERIFY(near(c[0].box, cv::Rect2f(80, 170, 40, 60)));
        QCOMPARE(c[1].classId, 0);
        c.clear();
        QVERIFY(Yolov5Decoder(kClasses).decode({out}, 0.5f, c, &error));
        QCOMPARE(c.size(), size_t(1));
    }

    void yolov8_channelMajorWithoutObjectness_isDecoded()
    {
        const int n = 5;
        cv::Mat out = tensor({1, 4 + kClasses, n});
        float *d = out.ptr<float>();
        const auto set = [&](int channel, int i, float v) { d[channel * n + i] = v; };
        set(0, 3, 320); set(1, 3, 240); set(2, 3, 100); set(3, 3, 50); set(4 + 2, 3, 0.66f); // car at anchor 3
        set(4 + 7, 1, 0.2f);                                                                  // weak truck
        std::vector<Candidate> c;
        QString error;
        QVERIFY2(Yolov8Decoder(kClasses).decode({out}, 0.25f, c, &error), qPrintable(error));
        QCOMPARE(c.size(), size_t(1));
        QCOMPARE(c[0].classId, 2);
        QCOMPARE(c[0].score, 0.66f);
        QVERIFY(near(c[0].box, cv::Rect2f(270, 215, 100, 50)));
    }

    void yolov8_wrongShape_isAnErrorNamingTheShape()
    {
        std::vector<Candidate> c;
        QString error;
        QVERIFY(!Yolov8Decoder(kClasses).decode({tensor({1, 8400, 85})}, 0.25f, c, &error));
        QVERIFY2(error.contains(QStringLiteral("[1, 84, N]")) && error.contains(QStringLiteral("[1, 8400, 85]")),
                 qPrintable(error));
    }

    void caffeSsd_backgroundOffsetAndFractions_areDecoded()
    {
        cv::Mat out = tensor({1, 1, 3, 7});
        float *d = out.ptr<float>();
        const float rows[3][7] = {
            {0, 15, 0.95f, 0.1f, 0.2f, 0.5f, 0.9f}, // VOC label 15 = person -> class 14 after background
            {0, 0, 0.99f, 0, 0, 1, 1},              // background: never a detection
            {0, 7, 0.10f, 0.5f, 0.5f, 0.6f, 0.6f},  // under the threshold
        };
        std::memcpy(d, rows, sizeof(rows));
        std::vector<Candidate> c;
        QString error;
        QVERIFY(SsdDecoder(cv::Size(300, 300), 20).decode({out}, 0.5f, c, &error));
        QCOMPARE(c.size(), size_t(1));
        QCOMPARE(c[0].classId, 14);
        QCOMPARE(c[0].score, 0.95f);
        QVERIFY(near(c[0].box, cv::Rect2f(30, 60, 120, 210), 0.001f));
    }

    void tfSsd_cocoCategoryIds_mapToEightyClasses()
    {
        QCOMPARE(SsdDecoder::cocoCategoryToClass(1), 0);
        QCOMPARE(SsdDecoder::cocoCategoryToClass(12), -1); // a gap in COCO's ids
        QCOMPARE(SsdDecoder::cocoCategoryToClass(13), 11); // stop sign
        QCOMPARE(SsdDecoder::cocoCategoryToClass(90), 79); // toothbrush
        cv::Mat out = tensor({1, 1, 1, 7});
        const float row[7] = {0, 18, 0.8f, 0, 0, 0.5f, 0.5f}; // 18 = dog
        std::memcpy(out.ptr<float>(), row, sizeof(row));
        std::vector<Candidate> c;
        QVERIFY(SsdDecoder(cv::Size(300, 300), kClasses, SsdDecoder::LabelMap::Coco90).decode({out}, 0.5f, c, nullptr));
        QCOMPARE(c.size(), size_t(1));
        QCOMPARE(c[0].classId, 16);
    }

    void nanodet_outputsMatchedByShapeNotOrder()
    {
        // 64x32 input, strides 8 and 16: 8x4 = 32 cells and 4x2 = 8 cells.
        const cv::Size input(64, 32);
        cv::Mat box8 = tensor({32, 32});
        cv::Mat cls16 = tensor({8, kClasses});
        cv::Mat cls8 = tensor({32, kClasses});
        cv::Mat box16 = tensor({8, 32});
        // stride 8, cell (col 2, row 1) -> centre (19.5, 11.5); distances 1, 2, 3, 0 bins
        const int cell = 1 * 8 + 2;
        cls8.at<float>(cell, 5) = 0.7f;
        const int bins[4] = {1, 2, 3, 0};
        for (int side = 0; side < 4; ++side)
            box8.at<float>(cell, side * 8 + bins[side]) = 30.0f; // a one-hot softmax
        // stride 16 cell (col 3, row 0) with a weaker score
        cls16.at<float>(3, 9) = 0.4f;
        std::vector<Candidate> c;
        QString error;
        // deliberately shuffled, as the real export's names and order mislead
        QVERIFY2(NanoDetDecoder(input, kClasses, {8, 16}).decode({box8, cls16, cls8, box16}, 0.3f, c, &error),
                 qPrintable(error));
        QCOMPARE(c.size(), size_t(2));
        QCOMPARE(c[0].classId, 5);
        QVERIFY(std::abs(c[0].score - 0.7f) < 1e-6f);
        // left 1*8, top 2*8, right 3*8, bottom 0 around (19.5, 11.5)
        QVERIFY2(near(c[0].box, cv::Rect2f(11.5f, 0.0f, 32.0f, 11.5f)), describe(c).constData());
        QCOMPARE(c[1].classId, 9);
        // uniform bins: expectation 3.5 bins * 16 = 56 each side around (55.5, 7.5), clipped to the canvas
        QVERIFY2(near(c[1].box, cv::Rect2f(0, 0, 64, 32)), describe(c).constData());
    }

    void nanodet_missingStride_isAnError()
    {
        std::vector<Candidate> c;
        QString error;
        QVERIFY(!NanoDetDecoder(cv::Size(320, 320), kClasses).decode({tensor({1600, 80})}, 0.3f, c, &error));
        QVERIFY2(error.contains(QStringLiteral("stride 8")), qPrintable(error));
    }

    void yolox_channelMajorBlocks_areReadPerLevel()
    {
        // 32x32 input, strides 8/16/32: 16 + 4 + 1 cells, each level a [85, cells] block.
        const cv::Size input(32, 32);
        const int ch = 5 + kClasses;
        cv::Mat out = tensor({1, 21, ch});
        float *d = out.ptr<float>();
        std::fill(d, d + 21 * ch, -20.0f); // all logits very negative
        // level stride 16 (block offset 16 * 85), cell (col 1, row 0) of 2x2
        const size_t block = size_t(16) * ch;
        const int cells = 4;
        const int i = 1;
        const auto set = [&](int c, float v) { d[block + size_t(c) * cells + i] = v; };
        set(0, 0.5f); set(1, 0.25f); set(2, 0.0f); set(3, std::log(2.0f)); set(4, logit(0.9f)); set(5 + 1, logit(0.5f));
        std::vector<Candidate> c;
        QString error;
        QVERIFY2(YoloxDecoder(input, kClasses).decode({out}, 0.1f, c, &error), qPrintable(error));
        QCOMPARE(c.size(), size_t(1));
        QCOMPARE(c[0].classId, 1);
        QVERIFY(std::abs(c[0].score - 0.45f) < 1e-4f);
        // cx = (0.5 + 1) * 16 = 24, cy = 0.25 * 16 = 4, w = 16, h = 32
        QVERIFY2(near(c[0].box, cv::Rect2f(16, -12, 16, 32)), describe(c).constData());

        // The same numbers read as plain rows land elsewhere: the layout matters.
        c.clear();
        QVERIFY(YoloxDecoder(input, kClasses, YoloxDecoder::Layout::Rows).decode({out}, 0.1f, c, &error));
        QVERIFY(c.empty() || !near(c[0].box, cv::Rect2f(16, -12, 16, 32)));
    }

    void yolox_officialExport_probabilitiesAreNotSquashed()
    {
        // YOLOX's export_onnx.py: [1, N, 85] rows, objectness and classes through sigmoid
        // already. 32x32 input, strides 8/16/32: 16 + 4 + 1 rows.
        ModelManifest m = manifestOf(QStringLiteral("yolox"), 32,
                                     {{QStringLiteral("layout"), QStringLiteral("rows")},
                                      {QStringLiteral("scores"), QStringLiteral("probabilities")}});
        const int ch = 5 + kClasses;
        cv::Mat out = tensor({1, 21, ch}); // every probability 0: nothing there
        float *row = out.ptr<float>() + size_t(17) * ch; // stride 16, cell (col 1, row 0)
        row[0] = 0.5f;
        row[1] = 0.25f;
        row[3] = std::log(2.0f);
        row[4] = 0.95f;     // objectness
        row[5 + 2] = 0.2f;  // car
        QString error;
        const std::unique_ptr<Decoder> decoder = Decoder::create(m, &error);
        QVERIFY2(decoder, qPrintable(error));
        std::vector<Candidate> c;
        QVERIFY2(decoder->decode({out}, 0.1f, c, &error), qPrintable(error));
        QCOMPARE(c.size(), size_t(1));
        QCOMPARE(c[0].classId, 2);
        QVERIFY2(std::abs(c[0].score - 0.95f * 0.2f) < 1e-5f, describe(c).constData());
        QVERIFY2(near(c[0].box, cv::Rect2f(16, -12, 16, 32)), describe(c).constData());

        // Read as logits (the manifest not matching the file), every row scores 0.25 or more.
        m.decoder.remove(QStringLiteral("scores"));
        const std::unique_ptr<Decoder> wrong = Decoder::create(m, &error);
        QVERIFY2(wrong, qPrintable(error));
        c.clear();
        QVERIFY(wrong->decode({out}, 0.1f, c, &error));
        QCOMPARE(c.size(), size_t(21));
        for (const Candidate &x : c)
            QVERIFY2(x.score >= 0.25f, describe(c).constData());
    }

    void yolov5_logitScores_areThroughSigmoid()
    {
        cv::Mat out = tensor({1, 1, 5 + kClasses});
        float *r = out.ptr<float>();
        r[0] = 50; r[1] = 50; r[2] = 20; r[3] = 10;
        r[4] = logit(0.8f);
        r[5 + 3] = logit(0.5f);
        std::vector<Candidate> c;
        QString error;
        QVERIFY(Yolov5Decoder(kClasses, Decoder::Scores::Logits).decode({out}, 0.1f, c, &error));
        QCOMPARE(c.size(), size_t(1));
        QVERIFY2(std::abs(c[0].score - 0.4f) < 1e-4f, describe(c).constData());
    }

    void picodet_cellCentresAtHalfStride_fourStrides()
    {
        // 64x64 input, strides 8/16/32/64: 64, 16, 4 and 1 cells. One score at stride 16,
        // cell (col 1, row 1); each side's bins peak at bin 1, so every distance is 1 stride.
        ModelManifest m = manifestOf(QStringLiteral("picodet"), 64);
        std::vector<cv::Mat> outputs;
        for (const int cells : {64, 16, 4, 1}) {
            outputs.push_back(tensor({1, cells, kClasses}));
            outputs.push_back(tensor({1, cells, 32}));
        }
        outputs[2].ptr<float>()[5 * kClasses + 7] = 0.6f; // truck
        float *bins = outputs[3].ptr<float>() + 5 * 32;
        for (int side = 0; side < 4; ++side)
            bins[side * 8 + 1] = 30.0f;
        QString error;
        const std::unique_ptr<Decoder> decoder = Decoder::create(m, &error);
        QVERIFY2(decoder, qPrintable(error));
        std::vector<Candidate> c;
        QVERIFY2(decoder->decode(outputs, 0.3f, c, &error), qPrintable(error));
        QCOMPARE(c.size(), size_t(1));
        QCOMPARE(c[0].classId, 7);
        QCOMPARE(c[0].score, 0.6f);
        // centre (1.5 * 16, 1.5 * 16) = (24, 24), 16 to each edge
        QVERIFY2(near(c[0].box, cv::Rect2f(8, 8, 32, 32)), describe(c).constData());

        // the same tensors as nanodet: its centre is 1 * 16 + 7.5, half a pixel off
        m.family = QStringLiteral("nanodet");
        m.decoder = QJsonObject{{QStringLiteral("strides"), QJsonArray{8, 16, 32, 64}}};
        c.clear();
        QVERIFY(Decoder::create(m, &error)->decode(outputs, 0.3f, c, &error));
        QCOMPARE(c.size(), size_t(1));
        QVERIFY2(near(c[0].box, cv::Rect2f(7.5f, 7.5f, 32, 32)), describe(c).constData());

        // without the stride 64 outputs, picodet says which are missing
        m.family = QStringLiteral("picodet");
        m.decoder = {};
        outputs.resize(6);
        QVERIFY(!Decoder::create(m, &error)->decode(outputs, 0.3f, c, &error));
        QVERIFY2(error.startsWith(QStringLiteral("picodet: no [1, 80] score")), qPrintable(error));
    }

    void fastestdet_cellGeometryAndScorePowers()
    {
        const int g = 4;
        cv::Mat out = tensor({1, 5 + kClasses, g, g});
        float *d = out.ptr<float>();
        const int plane = g * g;
        const int cell = 2 * g + 1; // row 2, col 1
        const auto set = [&](int c, float v) { d[c * plane + cell] = v; };
        set(0, 0.8f);                 // objectness
        set(1, std::atanh(0.5f));     // x offset 0.5
        set(2, 0.0f);                 // y offset 0
        set(3, logit(0.25f));         // w = 0.25
        set(4, logit(0.5f));          // h = 0.5
        set(5 + 4, 0.9f);             // airplane
        std::vector<Candidate> c;
        QString error;
        QVERIFY2(FastestDetDecoder(cv::Size(400, 200), kClasses).decode({out}, 0.3f, c, &error), qPrintable(error));
        QCOMPARE(c.size(), size_t(1));
        QCOMPARE(c[0].classId, 4);
        QVERIFY(std::abs(c[0].score - std::pow(0.8f, 0.6f) * std::pow(0.9f, 0.4f)) < 1e-5f);
        // cx = (1 + 0.5) / 4 * 400 = 150, cy = 2 / 4 * 200 = 100, w = 100, h = 100
        QVERIFY2(near(c[0].box, cv::Rect2f(100, 50, 100, 100), 0.01f), describe(c).constData());
    }

    void darknet_rowsAreFractionsOfTheInput()
    {
        cv::Mat a = tensor({2, 5 + kClasses});
        cv::Mat b = tensor({1, 5 + kClasses});
        float *r = a.ptr<float>();
        r[0] = 0.5f; r[1] = 0.5f; r[2] = 0.25f; r[3] = 0.5f; r[4] = 0.9f; r[5 + 2] = 0.6f;
        float *s = b.ptr<float>();
        s[0] = 0.1f; s[1] = 0.1f; s[2] = 0.1f; s[3] = 0.1f; s[4] = 0.5f; s[5 + 0] = 0.3f;
        std::vector<Candidate> c;
        QString error;
        QVERIFY(DarknetDecoder(cv::Size(320, 320), kClasses).decode({a, b}, 0.2f, c, &error));
        QCOMPARE(c.size(), size_t(2));
        QCOMPARE(c[0].classId, 2);
        QVERIFY(near(c[0].box, cv::Rect2f(120, 80, 80, 160)));
        QCOMPARE(c[1].classId, 0);
    }

    void darknetCfg_getsThreshInEveryYoloSection()
    {
        const QByteArray cfg = "[net]\nwidth=320\n\n[yolo]\nmask=0,1\nignore_thresh = .5\nthresh = 0.25\n"
                               "[convolutional]\nfilters=3\n[yolo]\nclasses=80";
        const QByteArray patched = DarknetDecoder::patchYoloThreshold(cfg, 0.001);
        QCOMPARE(patched.count("thresh=0.001"), qsizetype(2));
        QVERIFY(patched.contains("ignore_thresh = .5"));
        QVERIFY(!patched.contains("thresh = 0.25"));
        // the setting lands inside each [yolo] section, before the next section starts
        QVERIFY(patched.indexOf("thresh=0.001") < patched.indexOf("[convolutional]"));
        QVERIFY(patched.lastIndexOf("thresh=0.001") > patched.lastIndexOf("[yolo]"));
        QVERIFY(patched.contains("filters=3"));
    }

    void nms_isClasswiseAndLimited()
    {
        std::vector<Candidate> c{
            {0, 0.9f, cv::Rect2f(0, 0, 10, 10)},
            {0, 0.8f, cv::Rect2f(1, 1, 10, 10)},   // overlaps the first, same class: dropped
            {1, 0.85f, cv::Rect2f(1, 1, 10, 10)},  // same place, other class: kept
            {0, 0.7f, cv::Rect2f(50, 50, 10, 10)}, // far away: kept
            {2, 0.6f, cv::Rect2f(0, 0, 0, 10)},    // empty box: dropped
        };
        auto kept = Nms::classwise(c, 0.5f, 100);
        QCOMPARE(kept.size(), size_t(3));
        QCOMPARE(kept[0].score, 0.9f);
        QCOMPARE(kept[1].classId, 1);
        QCOMPARE(kept[2].score, 0.7f);
        QCOMPARE(Nms::classwise(c, 0.5f, 2).size(), size_t(2));
        kept = Nms::classwise(c, 0.5f, 100, {1});
        QCOMPARE(kept.size(), size_t(1));
        QCOMPARE(kept[0].classId, 1);
        QCOMPARE(Nms::classwise(c, 0.99f, 100).size(), size_t(4));
        QVERIFY(Nms::classwise(c, 0.5f, 0).empty());
    }

    void letterbox_mapsCanvasBoxesBackToImagePixels()
    {
        ModelManifest m;
        m.inputWidth = 320;
        m.inputHeight = 320;
        m.preprocess.padValue = 128;
        const cv::Mat image(100, 200, CV_8UC3, cv::Scalar(10, 20, 30));
        CanvasMapping mapping;
        const cv::Mat canvas = ImagePreprocessor::canvas(image, m, &mapping);
        QCOMPARE(canvas.cols, 320);
        QCOMPARE(canvas.rows, 320);
        QCOMPARE(mapping.padY, 80.0); // 200x100 -> 320x160, centred
        QCOMPARE(canvas.at<cv::Vec3b>(10, 160), cv::Vec3b(128, 128, 128));
        QCOMPARE(canvas.at<cv::Vec3b>(160, 160), cv::Vec3b(10, 20, 30));
        const QRectF back = mapping.toImage(cv::Rect2f(32, 96, 64, 32));
        QCOMPARE(back, QRectF(20, 10, 40, 20));
        // boxes reaching into the padding are clipped to the image
        QCOMPARE(mapping.toImage(cv::Rect2f(-10, 0, 400, 400)), QRectF(0, 0, 200, 100));

        m.preprocess.resize = QStringLiteral("stretch");
        ImagePreprocessor::canvas(image, m, &mapping);
        QCOMPARE(mapping.toImage(cv::Rect2f(160, 160, 160, 160)), QRectF(100, 50, 100, 50));
    }

    void blob_appliesChannelOrderScaleMeanStd()
    {
        ModelManifest m;
        m.inputWidth = 4;
        m.inputHeight = 4;
        m.preprocess.resize = QStringLiteral("stretch");
        m.preprocess.swapRB = true;
        m.preprocess.scale = 1.0 / 255.0;
        const double mean[3] = {0.5, 0.0, 0.0};
        const double stdv[3] = {0.5, 1.0, 2.0};
        std::copy(mean, mean + 3, m.preprocess.mean);
        std::copy(stdv, stdv + 3, m.preprocess.std);
        const cv::Mat image(4, 4, CV_8UC3, cv::Scalar(255, 0, 51)); // B=255, G=0, R=51
        const cv::Mat blob = ImagePreprocessor::blob(image, m, nullptr);
        QCOMPARE(blob.size[1], 3);
        const float *d = blob.ptr<float>();
        // channel 0 is R now: (51/255 - 0.5) / 0.5 = -0.6; channel 2 is B: 1 / 2
        QVERIFY(std::abs(d[0] - (-0.6f)) < 1e-5f);
        QVERIFY(std::abs(d[16] - 0.0f) < 1e-6f);
        QVERIFY(std::abs(d[32] - 0.5f) < 1e-6f);
    }

    void decoderFactory_rejectsBadSettings()
    {
        ModelManifest m = manifestOf(QStringLiteral("nanodet"), 320);
        QString error;
        QVERIFY(Decoder::create(m, &error));
        m.decoder.insert(QStringLiteral("strides"), QJsonArray{8, 0});
        QVERIFY(!Decoder::create(m, &error));
        QVERIFY2(error.contains(QStringLiteral("decoder.strides")), qPrintable(error));
        m.family = QStringLiteral("cascade");
        QVERIFY(!Decoder::create(m, &error));
        m.family = QStringLiteral("tf-ssd");
        m.decoder = QJsonObject{{QStringLiteral("label_map"), QStringLiteral("voc")}};
        QVERIFY(!Decoder::create(m, &error));
        QVERIFY2(error.contains(QStringLiteral("decoder.label_map")), qPrintable(error));
        m.family = QStringLiteral("yolox");
        m.decoder = QJsonObject{{QStringLiteral("scores"), QStringLiteral("sigmoid")}};
        QVERIFY(!Decoder::create(m, &error));
        QVERIFY2(error.contains(QStringLiteral("decoder.scores: expected")), qPrintable(error));
        m.family = QStringLiteral("nanodet"); // one known form: the setting would be ignored
        m.decoder = QJsonObject{{QStringLiteral("scores"), QStringLiteral("logits")}};
        QVERIFY(!Decoder::create(m, &error));
        QVERIFY2(error.contains(QStringLiteral("only yolox, yolov5 and yolov8")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestDecoders)
#include "tst_decoders.moc"
