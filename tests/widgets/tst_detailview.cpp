#include "widgets/detailview.h"
#include "widgets/imageview.h"

#include "testimages.h"

#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QImage>
#include <QImageWriter>
#include <QKeyEvent>
#include <QWheelEvent>
#include <QLabel>
#include <QPainter>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QtEndian>

using namespace edgelens;

namespace {

QImage testImage(int width, int height, QColor color)
{
    QImage image = test::solidImage(width, height, color);
    QPainter painter(&image);
    painter.fillRect(0, 0, width / 4, height / 4, Qt::white); // marks the top-left corner
    return image;
}

bool writeJpeg(const QImage &image, const QString &path)
{
    QImageWriter writer(path, "jpg");
    return writer.write(image);
}

// A JPEG whose pixels are stored landscape but whose EXIF says "rotate 90° clockwise"
// (orientation 6), as phone cameras write them.
QByteArray jpegWithExifOrientation6(const QImage &landscape)
{
    const QByteArray jpeg = test::encodeImage(landscape, "JPEG");
    QByteArray tiff("MM\x00\x2A\x00\x00\x00\x08", 8); // big-endian TIFF, IFD at offset 8
    tiff += QByteArray("\x00\x01", 2);                // one entry
    tiff += QByteArray("\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00", 12); // Orientation SHORT 6
    tiff += QByteArray(4, '\0');                       // no next IFD
    const QByteArray payload = QByteArray("Exif\x00\x00", 6) + tiff;
    QByteArray app1("\xFF\xE1", 2);
    const quint16 length = quint16(payload.size() + 2);
    app1 += char(length >> 8);
    app1 += char(length & 0xFF);
    app1 += payload;
    return jpeg.left(2) + app1 + jpeg.mid(2);
}

DetectionResult threeDetections()
{
    DetectionResult result;
    result.imageWidth = 400;
    result.imageHeight = 300;
    result.model = QStringLiteral("nanodet-m-320");
    result.detections = {Detection{0, QStringLiteral("person"), 0.92f, QRectF(10, 10, 100, 200)},
                         Detection{16, QStringLiteral("dog"), 0.61f, QRectF(150, 100, 80, 60)},
                         Detection{2, QStringLiteral("car"), 0.31f, QRectF(250, 150, 120, 90)}};
    return result;
}

int visibleRows(QTreeWidget *list)
{
    int rows = 0;
    for (int i = 0; i < list->topLevelItemCount(); ++i)
        rows += list->topLevelItem(i)->isHidden() ? 0 : 1;
    return rows;
}

} // namespace

class TestDetailView final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_original;
    QString m_result;

    bool showAndWait(DetailView &view, const QString &original, const QString &result, const DetectionResult &data,
                     bool hasData)
    {
        QSignalSpy loaded(&view, &DetailView::itemLoaded);
        view.showItem(original, result, data, hasData);
        return loaded.wait(10000);
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_original = m_dir.filePath(QStringLiteral("original.jpg"));
        m_result = m_dir.filePath(QStringLiteral("original_result.jpg"));
        QVERIFY(writeJpeg(testImage(400, 300, QColor(40, 90, 160)), m_original));
        QVERIFY(writeJpeg(testImage(400, 300, QColor(160, 90, 40)), m_result));
    }

    void showItem_drawsOneBoxPerDetectionOverTheOriginal()
    {
        DetailView view;
        view.resize(1000, 700);
        QVERIFY(showAndWait(view, m_original, m_result, threeDetections(), true));
        QCOMPARE(view.originalView()->imageSize(), QSize(400, 300));
        QCOMPARE(view.resultView()->imageSize(), QSize(400, 300));
        QCOMPARE(view.visibleBoxCount(), 3);
        QCOMPARE(view.loadError(), QString());
        auto *list = view.findChild<QTreeWidget *>(QStringLiteral("detectionList"));
        QCOMPARE(list->topLevelItemCount(), 3);
        QCOMPARE(list->topLevelItem(1)->text(0), QStringLiteral("dog"));
        QCOMPARE(list->topLevelItem(1)->text(1), QStringLiteral("0.610"));
        QCOMPARE(list->topLevelItem(1)->text(2), QStringLiteral("150, 100  80\u00d760"));
        QVERIFY(!view.findChild<QLabel *>(QStringLiteral("noDataLabel"))->isVisibleTo(&view));

        // The boxes sit on the original at the detection's pixel coordinates.
        QList<QRectF> boxes;
        for (QGraphicsItem *item : view.originalView()->scene()->items()) {
            auto *rect = dynamic_cast<QGraphicsRectItem *>(item);
            if (rect && !(rect->flags() & QGraphicsItem::ItemIgnoresTransformations))
                boxes << rect->mapRectToScene(rect->rect());
        }
        QVERIFY2(boxes.contains(QRectF(150, 100, 80, 60)), qPrintable(QString::number(boxes.size())));
    }

    void confidenceSlider_hidesLowConfidenceBoxesLocally()
    {
        DetailView view;
        QVERIFY(showAndWait(view, m_original, m_result, threeDetections(), true));
        auto *slider = view.findChild<QSlider *>(QStringLiteral("confidenceSlider"));
        auto *list = view.findChild<QTreeWidget *>(QStringLiteral("detectionList"));
        QVERIFY(slider->isEnabled());

        slider->setValue(50);
        QCOMPARE(view.confidenceThreshold(), 0.5);
        QCOMPARE(view.visibleBoxCount(), 2);
        QCOMPARE(visibleRows(list), 2);
        QVERIFY(list->topLevelItem(2)->isHidden()); // the 0.31 car

        slider->setValue(70);
        QCOMPARE(view.visibleBoxCount(), 1);
        QCOMPARE(visibleRows(list), 1);
        QCOMPARE(view.findChild<QLabel *>(QStringLiteral("countLabel"))->text(), QStringLiteral("1 of 3 shown"));

        slider->setValue(95);
        QCOMPARE(view.visibleBoxCount(), 0);

        slider->setValue(0);
        QCOMPARE(view.visibleBoxCount(), 3);
        QCOMPARE(visibleRows(list), 3);
    }

    void boxesToggle_hidesOutlinesAndLabelsToggle_hidesTags()
    {
        DetailView view;
        QVERIFY(showAndWait(view, m_original, m_result, threeDetections(), true));
        view.findChild<QCheckBox *>(QStringLiteral("boxesToggle"))->setChecked(false);
        QCOMPARE(view.visibleBoxCount(), 0);
        int visibleTags = 0;
        for (QGraphicsItem *item : view.originalView()->scene()->items())
            visibleTags += (item->flags() & QGraphicsItem::ItemIgnoresTransformations) && item->isVisible() ? 1 : 0;
        QCOMPARE(visibleTags, 3); // labels still shown without outlines

        view.findChild<QCheckBox *>(QStringLiteral("labelsToggle"))->setChecked(false);
        visibleTags = 0;
        for (QGraphicsItem *item : view.originalView()->scene()->items())
            visibleTags += (item->flags() & QGraphicsItem::ItemIgnoresTransformations) && item->isVisible() ? 1 : 0;
        QCOMPARE(visibleTags, 0);

        view.setBoxesVisible(true);
        QCOMPARE(view.visibleBoxCount(), 3);
    }

    void selectingDetection_highlightsItsBox()
    {
        DetailView view;
        QVERIFY(showAndWait(view, m_original, m_result, threeDetections(), true));
        view.selectDetection(1);
        QCOMPARE(view.selectedDetection(), 1);
        QGraphicsRectItem *highlighted = nullptr;
        int thick = 0; // boxes drawn in the highlight colour
        for (QGraphicsItem *item : view.originalView()->scene()->items()) {
            auto *rect = dynamic_cast<QGraphicsRectItem *>(item);
            if (rect && !(rect->flags() & QGraphicsItem::ItemIgnoresTransformations) && rect->pen().color() == QColor(255, 215, 0)) {
                highlighted = rect;
                ++thick;
            }
        }
        QCOMPARE(thick, 1);
        QCOMPARE(highlighted->rect(), QRectF(150, 100, 80, 60));

        // Filtering the selected box away clears the highlight.
        view.setConfidenceThreshold(0.7);
        QCOMPARE(view.selectedDetection(), -1);
    }

    void legacyResult_saysNoDetectionData()
    {
        DetailView view;
        DetectionResult onlySize;
        onlySize.imageWidth = 400;
        onlySize.imageHeight = 300;
        QVERIFY(showAndWait(view, m_original, m_result, onlySize, false));
        auto *message = view.findChild<QLabel *>(QStringLiteral("noDataLabel"));
        QVERIFY(message->isVisibleTo(&view));
        QCOMPARE(message->text(), QStringLiteral("This server returned only an image; no detection data available"));
        QVERIFY(!view.findChild<QSlider *>(QStringLiteral("confidenceSlider"))->isEnabled());
        QVERIFY(!view.findChild<QTreeWidget *>(QStringLiteral("detectionList"))->isVisibleTo(&view));
        QCOMPARE(view.visibleBoxCount(), 0);
        // The server's marked-up image is still shown.
        QCOMPARE(view.resultView()->imageSize(), QSize(400, 300));

        // Back to an item with data: the message goes away.
        QVERIFY(showAndWait(view, m_original, m_result, threeDetections(), true));
        QVERIFY(!message->isVisibleTo(&view));
        QCOMPARE(view.visibleBoxCount(), 3);
    }

    void exifOrientation_isRespected()
    {
        const QString rotated = m_dir.filePath(QStringLiteral("phone.jpg"));
        QFile file(rotated);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(jpegWithExifOrientation6(testImage(320, 200, Qt::darkGreen)));
        file.close();
        DetailView view;
        DetectionResult result;
        result.imageWidth = 200;
        result.imageHeight = 320;
        result.detections = {Detection{0, QStringLiteral("person"), 0.9f, QRectF(10, 10, 50, 50)}};
        QVERIFY(showAndWait(view, rotated, QString(), result, true));
        QCOMPARE(view.originalView()->imageSize(), QSize(200, 320));
        QCOMPARE(view.visibleBoxCount(), 1);
    }

    void zoom_isSynchronisedBetweenViews()
    {
        // A result saved at half size still shows the same part of the picture.
        const QString half = m_dir.filePath(QStringLiteral("half.jpg"));
        QVERIFY(writeJpeg(testImage(200, 150, Qt::gray), half));
        DetailView view;
        view.resize(900, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(showAndWait(view, m_original, half, threeDetections(), true));

        view.showActualSize();
        QCOMPARE(view.originalView()->zoom(), 1.0);
        QCOMPARE(view.resultView()->zoom(), 2.0);
        view.zoomIn();
        QCOMPARE(view.originalView()->zoom(), 1.25);
        QCOMPARE(view.resultView()->zoom(), 2.5);
        view.resultView()->zoomOut();
        QCOMPARE(view.originalView()->zoom(), 1.0);

        // Zoomed in far enough to scroll, panning one view pans the other.
        view.originalView()->setZoom(4.0);
        QCOMPARE(view.resultView()->zoom(), 8.0);
        view.originalView()->centerOnNormalized(QPointF(0.25, 0.3));
        const QPointF a = view.originalView()->normalizedCenter();
        const QPointF b = view.resultView()->normalizedCenter();
        QVERIFY2(std::abs(a.x() - 0.25) < 0.01 && std::abs(a.y() - 0.3) < 0.01, qPrintable(QString::number(a.x())));
        QVERIFY2(std::abs(a.x() - b.x()) < 0.01 && std::abs(a.y() - b.y()) < 0.01,
                 qPrintable(QStringLiteral("%1,%2 vs %3,%4").arg(a.x()).arg(a.y()).arg(b.x()).arg(b.y())));

        view.fitToWindow();
        QVERIFY(view.originalView()->isFitMode());
        QVERIFY(view.originalView()->zoom() <= 1.0);
    }

    void wheelOverOneView_zoomsBoth()
    {
        DetailView view;
        view.resize(900, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(showAndWait(view, m_original, m_result, threeDetections(), true));
        view.showActualSize();
        QWidget *viewport = view.originalView()->viewport();
        const QPointF at(viewport->width() / 2.0, viewport->height() / 2.0);
        QWheelEvent wheel(at, viewport->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(viewport, &wheel);
        QCOMPARE(view.originalView()->zoom(), 1.25);
        QCOMPARE(view.resultView()->zoom(), 1.25);
        QKeyEvent minus(QEvent::KeyPress, Qt::Key_Minus, Qt::NoModifier, QStringLiteral("-"));
        QCoreApplication::sendEvent(view.resultView(), &minus);
        QCOMPARE(view.originalView()->zoom(), 1.0);
    }

    void boxesFromADownscaledUpload_areMappedOntoTheOriginal()
    {
        // The server saw a 200x150 copy; the original on disk is 400x300.
        DetectionResult half;
        half.imageWidth = 200;
        half.imageHeight = 150;
        half.detections = {Detection{16, QStringLiteral("dog"), 0.8f, QRectF(75, 50, 40, 30)}};
        DetailView view;
        QVERIFY(showAndWait(view, m_original, m_result, half, true));
        QList<QRectF> boxes;
        for (QGraphicsItem *item : view.originalView()->scene()->items()) {
            auto *rect = dynamic_cast<QGraphicsRectItem *>(item);
            if (rect && !(rect->flags() & QGraphicsItem::ItemIgnoresTransformations))
                boxes << rect->mapRectToScene(rect->rect());
        }
        QCOMPARE(boxes, QList<QRectF>{QRectF(150, 100, 80, 60)});
    }

    void missingImage_reportsErrorWithoutCrashing()
    {
        DetailView view;
        QVERIFY(showAndWait(view, m_dir.filePath(QStringLiteral("gone.jpg")), m_result, threeDetections(), true));
        QVERIFY(view.loadError().contains(QStringLiteral("gone.jpg")));
        QVERIFY(view.findChild<QLabel *>(QStringLiteral("errorLabel"))->isVisibleTo(&view));
        QCOMPARE(view.visibleBoxCount(), 0);
        QCOMPARE(view.resultView()->imageSize(), QSize(400, 300));
    }
};

QTEST_MAIN(TestDetailView)
#include "tst_detailview.moc"
