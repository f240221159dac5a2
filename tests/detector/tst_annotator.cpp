#include "markup/annotator.h"
#include "markup/markupstyle.h"

#include <QTest>

#include <opencv2/core.hpp>

using namespace edgelens;

namespace {

int changedPixels(const cv::Mat &a, const cv::Mat &b, const cv::Rect &area)
{
    cv::Mat diff;
    cv::absdiff(a(area), b(area), diff);
    cv::Mat grey;
    cv::transform(diff, grey, cv::Matx13f(1, 1, 1));
    return cv::countNonZero(grey);
}

} // namespace

class TestAnnotator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void annotated_marksTheBoxAndKeepsTheSize()
    {
        const cv::Mat input(480, 640, CV_8UC3, cv::Scalar(40, 90, 160));
        const cv::Mat original = input.clone();
        const QList<Detection> found{Detection{0, QStringLiteral("person"), 0.93f, QRectF(100, 120, 200, 250)}};
        const cv::Mat out = Annotator::annotated(input, found);
        QCOMPARE(out.cols, input.cols);
        QCOMPARE(out.rows, input.rows);
        QCOMPARE(out.type(), input.type());
        QCOMPARE(changedPixels(input, original, cv::Rect(0, 0, 640, 480)), 0); // input untouched
        // the box outline changed, the middle of the box and a far corner did not
        QVERIFY(changedPixels(input, out, cv::Rect(98, 200, 6, 50)) > 0);
        QCOMPARE(changedPixels(input, out, cv::Rect(180, 250, 40, 40)), 0);
        QCOMPARE(changedPixels(input, out, cv::Rect(600, 440, 40, 40)), 0);
        // the label tab sits above the box
        QVERIFY(changedPixels(input, out, cv::Rect(100, 90, 60, 28)) > 100);
    }

    void labelOfBoxAtTheTop_staysInsideTheImage()
    {
        const cv::Mat input(300, 300, CV_8UC3, cv::Scalar::all(0));
        // touching the top and right edge: the tab must go below the box top and left of the edge
        const QList<Detection> found{Detection{2, QStringLiteral("car"), 0.5f, QRectF(250, 0, 50, 100)}};
        const cv::Mat out = Annotator::annotated(input, found);
        // a filled tab of roughly 50x15 pixels drawn inside the box's top-right corner
        QVERIFY(changedPixels(input, out, cv::Rect(240, 0, 60, 18)) > 400);
        QVERIFY(changedPixels(input, out, cv::Rect(0, 0, 240, 300)) < 20);
        QVERIFY(changedPixels(input, out, cv::Rect(0, 150, 300, 150)) == 0);
    }

    void colours_areStablePerClassAndTextContrasts()
    {
        QCOMPARE(Annotator::classColor(3), Annotator::classColor(3));
        QVERIFY(Annotator::classColor(0) != Annotator::classColor(1));
        QCOMPARE(Annotator::classColor(5), Annotator::classColor(25)); // palette of 20
        const QColor q = MarkupStyle::color(0);
        QCOMPARE(q.blue(), int(Annotator::classColor(0)[0]));
        QCOMPARE(Annotator::textColorOn(cv::Scalar(255, 255, 255)), cv::Scalar(0, 0, 0));
        QCOMPARE(Annotator::textColorOn(cv::Scalar(80, 0, 40)), cv::Scalar(255, 255, 255));
        for (int c = 0; c < 20; ++c) {
            const cv::Scalar bg = Annotator::classColor(c);
            const cv::Scalar fg = Annotator::textColorOn(bg);
            const double luma = 0.114 * bg[0] + 0.587 * bg[1] + 0.299 * bg[2];
            QVERIFY(fg[0] == 0 ? luma > 128 - 20 : luma < 128 + 20);
        }
    }

    void labelText_isNameAndPercent()
    {
        QCOMPARE(MarkupStyle::labelText(Detection{0, QStringLiteral("person"), 0.934f, {}}), QStringLiteral("person 93%"));
        QCOMPARE(MarkupStyle::labelText(Detection{7, QString(), 1.2f, {}}), QStringLiteral("class 7 100%"));
    }

    void strokeGrowsWithImageSize()
    {
        const QList<Detection> small{Detection{1, QStringLiteral("bicycle"), 0.8f, QRectF(20, 30, 60, 60)}};
        const cv::Mat a(200, 200, CV_8UC3, cv::Scalar::all(0));
        const cv::Mat outA = Annotator::annotated(a, small);
        const QList<Detection> big{Detection{1, QStringLiteral("bicycle"), 0.8f, QRectF(200, 300, 600, 600)}};
        const cv::Mat b(2000, 2000, CV_8UC3, cv::Scalar::all(0));
        const cv::Mat outB = Annotator::annotated(b, big);
        // width of the left edge at mid height
        const auto strokeWidth = [](const cv::Mat &img, int y, int xFrom) {
            int w = 0;
            for (int x = std::max(0, xFrom - 10); x < xFrom + 10; ++x)
                w += img.at<cv::Vec3b>(y, x) != cv::Vec3b(0, 0, 0) ? 1 : 0;
            return w;
        };
        QVERIFY(strokeWidth(outB, 600, 200) > strokeWidth(outA, 60, 20));
    }

    void oddInputs_areLeftAlone()
    {
        cv::Mat empty;
        Annotator::draw(empty, {Detection{0, QStringLiteral("person"), 0.9f, QRectF(0, 0, 10, 10)}});
        QVERIFY(empty.empty());
        cv::Mat img(50, 50, CV_8UC3, cv::Scalar::all(0));
        // boxes entirely outside or degenerate do not crash
        Annotator::draw(img, {Detection{0, QStringLiteral("person"), 0.9f, QRectF(-100, -100, 10, 10)},
                              Detection{0, QStringLiteral("person"), 0.9f, QRectF(1e9, 1e9, 1e9, 1e9)},
                              Detection{0, QStringLiteral("ünïcode"), 0.9f, QRectF(10, 10, 0, 0)}});
        QCOMPARE(img.cols, 50);
    }

    void note_isDrawnInTheCorner()
    {
        const cv::Mat input(300, 400, CV_8UC3, cv::Scalar::all(200));
        const cv::Mat out = Annotator::annotated(input, {}, QStringLiteral("fallback detector"));
        QVERIFY(changedPixels(input, out, cv::Rect(0, 0, 60, 14)) > 50);
        QCOMPARE(changedPixels(input, out, cv::Rect(0, 100, 400, 200)), 0);
    }
};

QTEST_GUILESS_MAIN(TestAnnotator)
#include "tst_annotator.moc"
