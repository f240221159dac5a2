// Drives the detail view's box editing the way a person does: mouse presses, drags and key
// presses on the original image's viewport, then checks the annotation the view announces.

#include "widgets/detailview.h"
#include "widgets/imageview.h"
#include "widgets/labelpicker.h"

#include "testimages.h"

#include <QApplication>
#include <QGraphicsPixmapItem>
#include <QImageWriter>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUndoStack>

using namespace edgelens;

namespace {

DetectionResult twoDetections()
{
    DetectionResult result;
    result.imageWidth = 400;
    result.imageHeight = 300;
    result.model = QStringLiteral("nanodet-m-320");
    result.detections = {Detection{0, QStringLiteral("person"), 0.92f, QRectF(40, 40, 100, 150)},
                         Detection{16, QStringLiteral("dog"), 0.61f, QRectF(220, 120, 120, 100)},
                         Detection{2, QStringLiteral("car"), 0.22f, QRectF(300, 20, 60, 40)}};
    return result;
}

// Where an image pixel is on the original view's viewport.
QPoint onViewport(DetailView &view, const QPointF &imagePoint)
{
    ImageView *v = view.originalView();
    return v->mapFromScene(v->imageItem()->mapToScene(imagePoint));
}

void drag(QWidget *viewport, const QPoint &from, const QPoint &to)
{
    QTest::mousePress(viewport, Qt::LeftButton, {}, from);
    // Several steps, as a real drag arrives.
    for (int i = 1; i <= 4; ++i)
        QTest::mouseMove(viewport, from + (to - from) * i / 4);
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, to);
}

bool near(const QRectF &a, const QRectF &b, double tolerance)
{
    return std::abs(a.x() - b.x()) <= tolerance && std::abs(a.y() - b.y()) <= tolerance
        && std::abs(a.width() - b.width()) <= tolerance && std::abs(a.height() - b.height()) <= tolerance;
}

QString describe(const QRectF &r)
{
    return QStringLiteral("%1,%2 %3x%4").arg(r.x()).arg(r.y()).arg(r.width()).arg(r.height());
}

} // namespace

class TestBoxEditing final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_original;

    // A shown, active view at 1:1 zoom (so a screen pixel is an image pixel), threshold 0.3.
    void open(DetailView &view)
    {
        view.resize(1100, 800);
        view.setLabelChoices({QStringLiteral("person"), QStringLiteral("bicycle"), QStringLiteral("car"),
                              QStringLiteral("truck")});
        view.show();
        QApplication::setActiveWindow(&view);
        QVERIFY(QTest::qWaitForWindowActive(&view));
        QSignalSpy loaded(&view, &DetailView::itemLoaded);
        view.showItem(m_original, QString(), twoDetections(), true, Annotation::fromModel(twoDetections(), 0.3));
        QVERIFY(loaded.wait(10000));
        view.showActualSize();
        view.originalView()->centerOn(200, 150);
        QCOMPARE(view.annotation().boxes.size(), 3);
    }

    QWidget *viewport(DetailView &view) { return view.originalView()->viewport(); }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_original = m_dir.filePath(QStringLiteral("original.png"));
        QVERIFY(test::solidImage(400, 300, QColor(40, 90, 160)).save(m_original));
    }

    void click_selectsTheBoxUnderTheMouse_andAClickBesideDeselects()
    {
        DetailView view;
        open(view);
        QTest::mouseClick(viewport(view), Qt::LeftButton, {}, onViewport(view, QPointF(280, 170)));
        QCOMPARE(view.selectedDetection(), 1);
        auto *list = view.findChild<QTreeWidget *>(QStringLiteral("detectionList"));
        QCOMPARE(list->currentItem()->text(0), QStringLiteral("dog"));
        QTest::mouseClick(viewport(view), Qt::LeftButton, {}, onViewport(view, QPointF(180, 260)));
        QCOMPARE(view.selectedDetection(), -1);
        // Selecting in the list selects on the image too.
        list->setCurrentItem(list->topLevelItem(0));
        QCOMPARE(view.selectedDetection(), 0);
    }

    void dragInside_movesTheBox_andUndoRedoRestoreIt()
    {
        DetailView view;
        open(view);
        QSignalSpy edited(&view, &DetailView::annotationEdited);
        drag(viewport(view), onViewport(view, QPointF(90, 110)), onViewport(view, QPointF(120, 130)));
        const QRectF moved = view.annotation().boxes.at(0).box;
        QVERIFY2(near(moved, QRectF(70, 60, 100, 150), 1.5), qPrintable(describe(moved)));
        QVERIFY(view.annotation().edited);
        QVERIFY(!view.annotation().editedBy.isEmpty());
        QCOMPARE(edited.count(), 1);
        QCOMPARE(edited.last().at(0).toString(), m_original);

        QTest::keyClick(viewport(view), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(view.annotation().boxes.at(0).box, QRectF(40, 40, 100, 150));
        QVERIFY(!view.annotation().edited);
        QTest::keyClick(viewport(view), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(near(view.annotation().boxes.at(0).box, QRectF(70, 60, 100, 150), 1.5));
        QCOMPARE(edited.count(), 3); // the edit, the undo and the redo were each announced
    }

    void dragCornerHandle_resizesTheBox()
    {
        DetailView view;
        open(view);
        QTest::mouseClick(viewport(view), Qt::LeftButton, {}, onViewport(view, QPointF(280, 170)));
        drag(viewport(view), onViewport(view, QPointF(340, 220)), onViewport(view, QPointF(370, 250)));
        const QRectF resized = view.annotation().boxes.at(1).box;
        QVERIFY2(near(resized, QRectF(220, 120, 150, 130), 1.5), qPrintable(describe(resized)));
        // The left edge alone.
        drag(viewport(view), onViewport(view, QPointF(220, 180)), onViewport(view, QPointF(200, 180)));
        QVERIFY2(near(view.annotation().boxes.at(1).box, QRectF(200, 120, 170, 130), 1.5),
                 qPrintable(describe(view.annotation().boxes.at(1).box)));
        QCOMPARE(view.undoStack()->count(), 2);
    }

    void deleteKey_removesTheSelectedBox_undoBringsItBack()
    {
        DetailView view;
        open(view);
        QTest::mouseClick(viewport(view), Qt::LeftButton, {}, onViewport(view, QPointF(90, 110)));
        QCOMPARE(view.selectedDetection(), 0);
        QTest::keyClick(viewport(view), Qt::Key_Delete);
        QCOMPARE(view.annotation().boxes.size(), 2);
        QCOMPARE(view.annotation().boxes.at(0).label, QStringLiteral("dog"));
        QCOMPARE(view.annotation().accepted().size(), 1); // the car stays below the threshold
        QTest::keyClick(viewport(view), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(view.annotation().boxes.size(), 3);
        QCOMPARE(view.annotation().boxes.at(0).label, QStringLiteral("person"));
    }

    void drawKey_thenDrag_addsABoxWithANewLabelFromThePicker()
    {
        DetailView view;
        open(view);
        QTest::keyClick(viewport(view), Qt::Key_W);
        QVERIFY(view.isDrawing());
        drag(viewport(view), onViewport(view, QPointF(160, 200)), onViewport(view, QPointF(210, 280)));
        QTRY_VERIFY(view.labelPicker() != nullptr);
        LabelPicker *picker = view.labelPicker();
        QTest::keyClicks(picker->filterEdit(), QStringLiteral("drone"));
        QTest::keyClick(picker->filterEdit(), Qt::Key_Return);
        QCOMPARE(view.annotation().boxes.size(), 4);
        const Detection added = view.annotation().boxes.last();
        QCOMPARE(added.label, QStringLiteral("drone"));
        QCOMPARE(added.classId, -1);
        QVERIFY2(near(added.box, QRectF(160, 200, 50, 80), 1.5), qPrintable(describe(added.box)));
        QVERIFY(view.annotation().accepted().contains(added)); // drawn by hand: always kept
        QCOMPARE(view.selectedDetection(), 3);
        QVERIFY(!view.isDrawing());
    }

    void relabelKey_searchesTheModelsClasses()
    {
        DetailView view;
        open(view);
        QTest::mouseClick(viewport(view), Qt::LeftButton, {}, onViewport(view, QPointF(280, 170)));
        QTest::keyClick(viewport(view), Qt::Key_E);
        QTRY_VERIFY(view.labelPicker() != nullptr);
        LabelPicker *picker = view.labelPicker();
        QTest::keyClicks(picker->filterEdit(), QStringLiteral("tru"));
        QTest::keyClick(picker->filterEdit(), Qt::Key_Return);
        QCOMPARE(view.annotation().boxes.at(1).label, QStringLiteral("truck"));
        QCOMPARE(view.annotation().boxes.at(1).classId, 3); // its index in the model's classes
        QCOMPARE(view.annotation().boxes.at(1).box, QRectF(220, 120, 120, 100));
        QTest::keyClick(viewport(view), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(view.annotation().boxes.at(1).label, QStringLiteral("dog"));
    }

    void tabCyclesVisibleBoxes_andZoomKeyZoomsToTheSelection()
    {
        DetailView view;
        open(view);
        QTest::keyClick(viewport(view), Qt::Key_Tab);
        QCOMPARE(view.selectedDetection(), 0);
        QTest::keyClick(viewport(view), Qt::Key_Tab);
        QCOMPARE(view.selectedDetection(), 1);
        QTest::keyClick(viewport(view), Qt::Key_Tab); // the car is below the threshold: skipped
        QCOMPARE(view.selectedDetection(), 0);
        const double before = view.originalView()->zoom();
        QTest::keyClick(viewport(view), Qt::Key_Z);
        QVERIFY(view.originalView()->zoom() > before * 1.5);
    }

    void slider_revealsBoxesBelowTheThreshold_andTheyAreSaved()
    {
        DetailView view;
        open(view);
        QCOMPARE(view.visibleBoxCount(), 2);
        QSignalSpy edited(&view, &DetailView::annotationEdited);
        view.setConfidenceThreshold(0.2);
        QCOMPARE(view.visibleBoxCount(), 3);
        QCOMPARE(view.annotation().accepted().size(), 3);
        QCOMPARE(edited.count(), 1);
        view.setConfidenceThreshold(0.5);
        QCOMPARE(view.annotation().accepted().size(), 2);
        // One drag of the slider is one undo step.
        QCOMPARE(view.undoStack()->count(), 1);
        view.undoStack()->undo();
        QCOMPARE(view.annotation().threshold, 0.3);
    }

    void undoStacks_arePerImage()
    {
        DetailView view;
        open(view);
        QTest::mouseClick(viewport(view), Qt::LeftButton, {}, onViewport(view, QPointF(90, 110)));
        QTest::keyClick(viewport(view), Qt::Key_Delete);
        const QString other = m_dir.filePath(QStringLiteral("other.png"));
        QVERIFY(test::solidImage(400, 300, Qt::gray).save(other));
        QSignalSpy loaded(&view, &DetailView::itemLoaded);
        view.showItem(other, QString(), twoDetections(), true, Annotation::fromModel(twoDetections(), 0.3));
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.undoStack()->count(), 0);
        QTest::keyClick(viewport(view), Qt::Key_Z, Qt::ControlModifier); // nothing to undo here
        QCOMPARE(view.annotation().boxes.size(), 3);
    }
};

QTEST_MAIN(TestBoxEditing)
#include "tst_boxediting.moc"
