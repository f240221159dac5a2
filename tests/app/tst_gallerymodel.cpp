// GalleryModel and GalleryFilterProxy as the user sees them: what is listed, in which order,
// and what a filter hides.

#include "englishplurals.h"
#include "gallerydelegate.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "imagecollector.h"
#include "resultsfolder.h"
#include "sessionstore.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;

namespace {

QString writeImage(const QString &dir, const QString &name)
{
    QImage image(8, 6, QImage::Format_RGB32);
    image.fill(Qt::darkCyan);
    const QString path = QDir(dir).filePath(name);
    QDir().mkpath(QFileInfo(path).absolutePath());
    if (!image.save(path))
        qWarning() << "cannot write" << path;
    return path;
}

Detection det(const QString &label, float confidence = 0.9f)
{
    Detection d;
    d.label = label;
    d.classId = 0;
    d.confidence = confidence;
    d.box = QRectF(1, 1, 2, 2);
    return d;
}

DetectionResult resultWith(const QList<Detection> &detections)
{
    DetectionResult r;
    r.imageWidth = 8;
    r.imageHeight = 6;
    r.detections = detections;
    return r;
}

// The sampled frames of one video as the app adds them: one group, ordered by frame index.
QList<GalleryModel::NewImage> framesOf(const QString &dir, const QString &video, const QList<int> &indices)
{
    QList<GalleryModel::NewImage> frames;
    for (int index : indices) {
        GalleryModel::NewImage frame;
        frame.path = writeImage(dir, QStringLiteral("%1_f%2.jpg").arg(QFileInfo(video).completeBaseName()).arg(index, 6, 10, QLatin1Char('0')));
        frame.group = video;
        frame.groupOrder = index;
        frame.origin.kind = ImageOrigin::Kind::VideoFrame;
        frame.origin.source = video;
        frame.origin.frameIndex = index;
        frame.origin.timestampMs = index * 100.0 / 3.0;
        frame.origin.samplingRule = QStringLiteral("every 30 frames");
        frames.append(frame);
    }
    return frames;
}

QStringList names(const QAbstractItemModel &model)
{
    QStringList out;
    for (int r = 0; r < model.rowCount(); ++r)
        out << model.index(r, 0).data().toString();
    return out;
}

} // namespace

class TestGalleryModel : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void addSameFileTwice_listsItOnce()
    {
        QTemporaryDir dir;
        const QString a = writeImage(dir.path(), QStringLiteral("a.jpg"));
        QVERIFY(QFile::link(a, dir.filePath(QStringLiteral("link-to-a.jpg"))));
        GalleryModel model;
        QCOMPARE(model.addPaths({a}).size(), 1);
        // Another spelling of the same file, and a symlink to it: still one item.
        QCOMPARE(model.addPaths({dir.path() + QStringLiteral("/./a.jpg"), dir.filePath(QStringLiteral("link-to-a.jpg"))}).size(), 0);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.item(0).status, GalleryItem::Status::Queued);
        QCOMPARE(model.index(0).data().toString(), QStringLiteral("a.jpg"));
    }

    void missingFile_isNotAdded()
    {
        GalleryModel model;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("not an existing file")));
        QVERIFY(model.addPaths({QStringLiteral("/nonexistent/x.jpg")}).isEmpty());
        QCOMPARE(model.rowCount(), 0);
    }

    void collectFolder_findsImagesRecursivelyAndCountsOthers()
    {
        QTemporaryDir dir;
        writeImage(dir.path(), QStringLiteral("a.jpg"));
        writeImage(dir.path(), QStringLiteral("sub/deeper/b.png"));
        writeImage(dir.path(), QStringLiteral("inferenced/a.jpg")); // an earlier run's output
        QFile notes(dir.filePath(QStringLiteral("notes.txt")));
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("hello");
        notes.close();

        ImageCollector collector;
        QSignalSpy finished(&collector, &ImageCollector::finished);
        QList<GalleryModel::NewImage> found;
        connect(&collector, &ImageCollector::imagesFound, this,
                [&](const QList<GalleryModel::NewImage> &images) { found += images; });
        collector.collect({dir.path(), dir.filePath(QStringLiteral("missing.jpg"))});
        QVERIFY(finished.wait(10000));
        QCOMPARE(found.size(), 2);
        QCOMPARE(finished.at(0).at(0).toInt(), 2);  // found
        QCOMPARE(finished.at(0).at(1).toInt(), 1);  // notes.txt skipped
        QCOMPARE(finished.at(0).at(2).toStringList().size(), 1); // missing.jpg
        QStringList paths;
        for (const auto &f : found)
            paths << QFileInfo(f.path).fileName();
        paths.sort();
        QCOMPARE(paths, (QStringList{QStringLiteral("a.jpg"), QStringLiteral("b.png")}));
    }

    void collectFolder_skipsMarkedOutputFolders_andCountsThem()
    {
        QTemporaryDir dir;
        writeImage(dir.path(), QStringLiteral("a.jpg"));
        writeImage(dir.path(), QStringLiteral("results/a.jpg")); // an output folder with another name
        QFile marker(dir.filePath(QStringLiteral("results/.edgelens-output")));
        QVERIFY(marker.open(QIODevice::WriteOnly));
        marker.close();
        writeImage(dir.path(), QStringLiteral("inferenced/a.jpg"));

        ImageCollector collector;
        QSignalSpy finished(&collector, &ImageCollector::finished);
        int found = 0;
        connect(&collector, &ImageCollector::imagesFound, this,
                [&](const QList<GalleryModel::NewImage> &images) { found += int(images.size()); });
        collector.collect({dir.path()});
        QVERIFY(finished.wait(10000));
        QCOMPARE(found, 1);
        QCOMPARE(collector.skippedOutputFolders(), 2);

        // Named directly, a marked folder is what the user asked for.
        collector.collect({dir.filePath(QStringLiteral("results"))});
        QVERIFY(finished.wait(10000));
        QCOMPARE(found, 2);
        QCOMPARE(collector.skippedOutputFolders(), 0);
    }

    void sortByName_isNaturalAndCaseInsensitive()
    {
        QTemporaryDir dir;
        GalleryModel model;
        model.addPaths({writeImage(dir.path(), QStringLiteral("img10.jpg")), writeImage(dir.path(), QStringLiteral("IMG2.jpg")),
                        writeImage(dir.path(), QStringLiteral("img1.jpg"))});
        GalleryFilterProxy proxy;
        proxy.setSourceModel(&model);
        QCOMPARE(names(proxy), (QStringList{QStringLiteral("img10.jpg"), QStringLiteral("IMG2.jpg"), QStringLiteral("img1.jpg")}));
        proxy.setSortKey(GalleryFilterProxy::SortKey::Name);
        QCOMPARE(names(proxy), (QStringList{QStringLiteral("img1.jpg"), QStringLiteral("IMG2.jpg"), QStringLiteral("img10.jpg")}));
        proxy.setSortKey(GalleryFilterProxy::SortKey::Name, Qt::DescendingOrder);
        QCOMPARE(names(proxy), (QStringList{QStringLiteral("img10.jpg"), QStringLiteral("IMG2.jpg"), QStringLiteral("img1.jpg")}));
    }

    void sortByDetections_followsResultsAsTheyArrive()
    {
        QTemporaryDir dir;
        GalleryModel model;
        model.addPaths({writeImage(dir.path(), QStringLiteral("a.jpg")), writeImage(dir.path(), QStringLiteral("b.jpg")),
                        writeImage(dir.path(), QStringLiteral("c.jpg"))});
        GalleryFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setSortKey(GalleryFilterProxy::SortKey::Detections, Qt::DescendingOrder);
        model.setResult(0, resultWith({det(QStringLiteral("dog"))}), true, QString(), QString());
        model.setResult(2, resultWith({det(QStringLiteral("person")), det(QStringLiteral("person")), det(QStringLiteral("dog"))}),
                        true, QString(), QString());
        // c (3) > a (1) > b (not processed yet)
        QCOMPARE(names(proxy), (QStringList{QStringLiteral("c.jpg"), QStringLiteral("a.jpg"), QStringLiteral("b.jpg")}));
        QCOMPARE(model.item(2).labelSummary, QStringLiteral("2 person, 1 dog"));
        model.setResult(1, resultWith({det(QStringLiteral("cat")), det(QStringLiteral("cat")), det(QStringLiteral("cat")),
                                       det(QStringLiteral("cat"))}),
                        true, QString(), QString());
        QCOMPARE(names(proxy).first(), QStringLiteral("b.jpg"));
    }

    void doneCell_countsBoxesInPlainEnglish()
    {
        EnglishPlurals plurals; // as main() installs it
        QCoreApplication::installTranslator(&plurals);
        QTemporaryDir dir;
        GalleryModel model;
        model.addPaths({writeImage(dir.path(), QStringLiteral("a.jpg")), writeImage(dir.path(), QStringLiteral("b.jpg"))});
        model.setResult(0, resultWith(QList<Detection>(10, det(QStringLiteral("dog")))), true, QString(), QString());
        model.setResult(1, resultWith({det(QStringLiteral("dog"))}), true, QString(), QString());
        const QString ten = GalleryDelegate::statusLine(model.index(0));
        const QString one = GalleryDelegate::statusLine(model.index(1));
        QCoreApplication::removeTranslator(&plurals);
        QCOMPARE(ten, QStringLiteral("done, 10 boxes"));
        QCOMPARE(one, QStringLiteral("done, 1 box"));
        QCOMPARE(EnglishPlurals::resolve(QStringLiteral("%n image(s) are done"), 1), QStringLiteral("%n image is done"));
    }

    void filterByStatusAndLabel_showsOnlyMatches()
    {
        QTemporaryDir dir;
        GalleryModel model;
        for (const char *n : {"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"})
            model.addPaths({writeImage(dir.path(), QLatin1String(n))});
        QSignalSpy labels(&model, &GalleryModel::labelsChanged);
        model.setResult(0, resultWith({det(QStringLiteral("dog"))}), true, QString(), QString());
        model.setResult(1, resultWith({det(QStringLiteral("person"))}), true, QString(), QString());
        model.setResult(2, resultWith({}), true, QString(), QString());
        model.setStatus(3, GalleryItem::Status::Failed, QStringLiteral("connection refused"));
        QCOMPARE(labels.size(), 2); // dog, person
        QCOMPARE(model.allLabels(), (QStringList{QStringLiteral("dog"), QStringLiteral("person")}));
        QCOMPARE(model.count(GalleryItem::Status::Done), 3);
        QCOMPARE(model.count(GalleryItem::Status::Failed), 1);
        QCOMPARE(model.count(GalleryItem::Status::Queued), 1);

        GalleryFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::Failed);
        QCOMPARE(names(proxy), QStringList{QStringLiteral("d.jpg")});
        QVERIFY(proxy.index(0, 0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("connection refused")));
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::WithDetections);
        QCOMPARE(names(proxy), (QStringList{QStringLiteral("a.jpg"), QStringLiteral("b.jpg")}));
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::WithoutDetections);
        QCOMPARE(names(proxy), QStringList{QStringLiteral("c.jpg")});
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::Pending);
        QCOMPARE(names(proxy), QStringList{QStringLiteral("e.jpg")});
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::All);
        proxy.setLabelFilter(QStringLiteral("person"));
        QCOMPARE(names(proxy), QStringList{QStringLiteral("b.jpg")});

        // A filtered view follows new results without being asked.
        model.setResult(4, resultWith({det(QStringLiteral("person")), det(QStringLiteral("cat"))}), true, QString(), QString());
        QCOMPARE(names(proxy), (QStringList{QStringLiteral("b.jpg"), QStringLiteral("e.jpg")}));
    }

    void legacyResult_hasNoDetectionCount()
    {
        QTemporaryDir dir;
        GalleryModel model;
        model.addPaths({writeImage(dir.path(), QStringLiteral("a.jpg"))});
        model.setResult(0, DetectionResult(), false, QStringLiteral("/out/a.jpg"), QString());
        QCOMPARE(model.index(0).data(GalleryModel::DetectionCountRole).toInt(), -1);
        QVERIFY(model.index(0).data(GalleryModel::LabelSummaryRole).toString().isEmpty());
        QVERIFY(model.index(0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("legacy")));
    }

    void removeRows_keepsPathLookupAndCountsRight()
    {
        QTemporaryDir dir;
        GalleryModel model;
        QStringList paths;
        for (const char *n : {"a.jpg", "b.jpg", "c.jpg", "d.jpg"})
            paths << writeImage(dir.path(), QLatin1String(n));
        model.addPaths(paths);
        model.setResult(1, resultWith({det(QStringLiteral("dog"))}), true, QString(), QString());
        QVERIFY(model.removeRows(0, 2));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.rowOfPath(QFileInfo(paths.at(2)).canonicalFilePath()), 0);
        QCOMPARE(model.rowOfPath(QFileInfo(paths.at(3)).canonicalFilePath()), 1);
        QCOMPARE(model.rowOfPath(QFileInfo(paths.at(0)).canonicalFilePath()), -1);
        QCOMPARE(model.count(GalleryItem::Status::Done), 0);
        QVERIFY(model.allLabels().isEmpty());
        // Removed images can be added again.
        QCOMPARE(model.addPaths({paths.at(0)}).size(), 1);
    }

    void groupedFrames_stayTogetherInFrameOrder_whateverTheSort()
    {
        QTemporaryDir dir;
        GalleryModel model;
        const QString video = dir.filePath(QStringLiteral("m.mp4"));
        model.addPaths({writeImage(dir.path(), QStringLiteral("a.jpg"))});
        // Frames arrive out of order and a photo comes between them.
        model.addImages(framesOf(dir.path(), video, {60, 0}));
        model.addPaths({writeImage(dir.path(), QStringLiteral("z.jpg"))});
        model.addImages(framesOf(dir.path(), video, {30}));
        GalleryFilterProxy proxy;
        proxy.setSourceModel(&model);
        const QStringList frames{QStringLiteral("m_f000000.jpg"), QStringLiteral("m_f000030.jpg"), QStringLiteral("m_f000060.jpg")};
        // Added: the group sits where its first frame was added.
        QCOMPARE(names(proxy), QStringList{QStringLiteral("a.jpg")} + frames + QStringList{QStringLiteral("z.jpg")});
        // By name the group sorts as "m.mp4", its frames still in their order either way.
        proxy.setSortKey(GalleryFilterProxy::SortKey::Name, Qt::DescendingOrder);
        QCOMPARE(names(proxy), QStringList{QStringLiteral("z.jpg")} + frames + QStringList{QStringLiteral("a.jpg")});
        proxy.setSortKey(GalleryFilterProxy::SortKey::Detections, Qt::DescendingOrder);
        model.setResult(model.rowOfPath(QDir(dir.path()).filePath(QStringLiteral("m_f000030.jpg"))),
                        resultWith({det(QStringLiteral("dog")), det(QStringLiteral("dog"))}), true, QString(), QString());
        QCOMPARE(names(proxy).mid(1, 3), frames);
        QVERIFY(proxy.index(1, 0).data(GalleryFilterProxy::GroupLeadRole).toBool());
        QVERIFY(!proxy.index(2, 0).data(GalleryFilterProxy::GroupLeadRole).toBool());
        QVERIFY(!proxy.index(0, 0).data(GalleryFilterProxy::GroupLeadRole).toBool()); // a photo
    }

    void collapsedGroup_isOneCellStandingForAllItsFrames()
    {
        EnglishPlurals plurals;
        QCoreApplication::installTranslator(&plurals);
        QTemporaryDir dir;
        GalleryModel model;
        const QString video = dir.filePath(QStringLiteral("clip.mp4"));
        model.addPaths({writeImage(dir.path(), QStringLiteral("photo.jpg"))});
        model.addImages(framesOf(dir.path(), video, {0, 10, 20}));
        GalleryFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setGroupInfo(video, 5, QString()); // two frames still to come
        model.setResult(1, resultWith({det(QStringLiteral("dog")), det(QStringLiteral("cat"))}), true, QString(), QString());
        model.setStatus(2, GalleryItem::Status::Failed, QStringLiteral("timeout"));

        proxy.setGroupCollapsed(video, true);
        QCOMPARE(names(proxy), (QStringList{QStringLiteral("photo.jpg"), QStringLiteral("clip_f000000.jpg")}));
        const QModelIndex cell = proxy.index(1, 0);
        QVERIFY(cell.data(GalleryFilterProxy::GroupCollapsedRole).toBool());
        QCOMPARE(proxy.sourceRowsOf(cell), (QList<int>{1, 2, 3}));
        QCOMPARE(proxy.sourceRowsOf(proxy.index(0, 0)), QList<int>{0});
        const GalleryFilterProxy::GroupSummary summary = proxy.groupSummary(video);
        QCOMPARE(summary.name, QStringLiteral("clip.mp4"));
        QCOMPARE(summary.items, 3);
        QCOMPARE(summary.done, 1);
        QCOMPARE(summary.failed, 1);
        QCOMPARE(summary.boxes, 2);
        QCOMPARE(GalleryDelegate::groupProgress(summary), QStringLiteral("1 of 5 frames done, 1 failed, 2 boxes"));

        // The collapsed cell shows while any frame passes the filter, and goes when none does.
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::Failed);
        QCOMPARE(names(proxy), QStringList{QStringLiteral("clip_f000000.jpg")});
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::Reviewed);
        QCOMPARE(proxy.rowCount(), 0);
        proxy.setStatusFilter(GalleryFilterProxy::StatusFilter::All);

        proxy.setGroupCollapsed(video, false);
        QCOMPARE(proxy.rowCount(), 4);
        QCoreApplication::removeTranslator(&plurals);
    }

    void sessionRoundTrip_keepsResultsAndRequeuesUnfinished()
    {
        QTemporaryDir dir;
        GalleryModel model;
        model.addPaths({writeImage(dir.path(), QStringLiteral("a.jpg")), writeImage(dir.path(), QStringLiteral("b.jpg")),
                        writeImage(dir.path(), QStringLiteral("c.jpg"))});
        model.setResult(0, resultWith({det(QStringLiteral("dog")), det(QStringLiteral("dog"))}), true,
                        dir.filePath(QStringLiteral("out/a.jpg")), QString());
        model.setStatus(1, GalleryItem::Status::Processing);
        model.setStatus(2, GalleryItem::Status::Failed, QStringLiteral("timeout"));
        QList<GalleryModel::NewImage> frames = framesOf(dir.path(), dir.filePath(QStringLiteral("clip.mp4")), {30});
        frames.first().origin.variableFrameRate = true;
        model.addImages(frames);
        const QString file = dir.filePath(QStringLiteral("session.json"));
        QString error;
        QVERIFY2(SessionStore::save(model.items(), file, &error), qPrintable(error));

        int dropped = -1;
        const QList<GalleryItem> back = SessionStore::load(file, &dropped, &error);
        QCOMPARE(back.size(), 4);
        QCOMPARE(dropped, 0);
        QCOMPARE(back.at(3).group, dir.filePath(QStringLiteral("clip.mp4"))); // still a frame of its video
        QCOMPARE(back.at(3).groupOrder, 30);
        QCOMPARE(back.at(3).origin, model.item(3).origin); // index, decoder time, rule: for exports and stepping
        QCOMPARE(back.at(3).origin.frameIndex, 30);
        QCOMPARE(back.at(0).origin, ImageOrigin::photo());
        QCOMPARE(back.at(0).status, GalleryItem::Status::Done);
        QCOMPARE(back.at(0).result.detections.size(), 2);
        QCOMPARE(back.at(0).labelSummary, QStringLiteral("2 dog"));
        QCOMPARE(back.at(1).status, GalleryItem::Status::Queued); // was on its way: goes again
        QCOMPARE(back.at(2).status, GalleryItem::Status::Failed);
        QCOMPARE(back.at(2).error, QStringLiteral("timeout"));

        GalleryModel restored;
        QCOMPARE(restored.addItems(back).size(), 4);
        QCOMPARE(restored.allLabels(), QStringList{QStringLiteral("dog")});
        QCOMPARE(restored.count(GalleryItem::Status::Done), 1);
        // The group's note comes from its frames, with no sampling run to announce it.
        GalleryFilterProxy proxy;
        proxy.setSourceModel(&restored);
        QCOMPARE(proxy.groupSummary(dir.filePath(QStringLiteral("clip.mp4"))).note, GalleryFilterProxy::variableFrameRateNote());
    }

    // Open Results on a folder a run left: frames of a video and of a live stream come back
    // grouped as the run grouped them, in frame order, with their origins; their frame files
    // (the originals, in the output folder) are not results without data.
    void resultsFolder_groupsFramesByTheirSource()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("out"));
        const auto writeSidecar = [&out](const QString &name, const QString &image, const ImageOrigin &origin) {
            writeImage(out, name + QStringLiteral(".jpg")); // its marked-up result
            QJsonObject sidecar = toJson(resultWith({det(QStringLiteral("dog"))}));
            sidecar.insert(QStringLiteral("image"), image);
            origin.writeTo(sidecar);
            QFile file(QDir(out).filePath(name + QStringLiteral(".json")));
            return file.open(QIODevice::WriteOnly) && file.write(QJsonDocument(sidecar).toJson()) > 0;
        };
        QVERIFY(writeSidecar(QStringLiteral("photo"), writeImage(dir.path(), QStringLiteral("in/photo.jpg")),
                             ImageOrigin::photo()));
        ImageOrigin frame;
        frame.kind = ImageOrigin::Kind::VideoFrame;
        frame.source = dir.filePath(QStringLiteral("in/clip.mp4"));
        for (int index : {20, 0, 10}) { // written in no particular order
            frame.frameIndex = index;
            frame.timestampMs = index * 100.0;
            const QString name = ImageOrigin::frameFileName(QStringLiteral("clip"), index, QStringLiteral("jpg"));
            QVERIFY(writeSidecar(QFileInfo(name).completeBaseName(), writeImage(out, QStringLiteral("frames/") + name), frame));
        }
        ImageOrigin live = frame;
        live.kind = ImageOrigin::Kind::LiveFrame;
        live.source = QStringLiteral("rtsp://camera.local/stream");
        live.frameIndex = 7;
        QVERIFY(writeSidecar(QStringLiteral("snapshot"), writeImage(out, QStringLiteral("kept/snapshot_f7.jpg")), live));

        const ResultsFolder::Scan scan = ResultsFolder::scan(out);
        QCOMPARE(scan.pairs, 5);
        QCOMPARE(scan.resultsOnly, 0);
        QStringList groups;
        QList<qint64> order;
        for (const GalleryItem &it : scan.items) {
            groups << it.group;
            order << it.groupOrder;
            QCOMPARE(it.group, it.origin.source); // empty for the photo
        }
        QCOMPARE(groups, (QStringList{frame.source, frame.source, frame.source, QString(), live.source}));
        QCOMPARE(order, (QList<qint64>{0, 10, 20, -1, 7}));
        QCOMPARE(scan.items.at(1).origin.timestampMs, 1000.0);
        QCOMPARE(scan.items.at(4).origin.kind, ImageOrigin::Kind::LiveFrame);
    }

    // Videos still being sampled come back to be continued, unless the file has gone or is
    // not the one that was sampled any more (frame numbers would mean other pictures).
    void videosBeingSampled_comeBackUnlessGoneOrChanged()
    {
        QTemporaryDir dir;
        QList<VideoSampling> videos;
        for (const QString &name : {QStringLiteral("kept.mp4"), QStringLiteral("changed.mp4"), QStringLiteral("gone.mp4")}) {
            const QString path = dir.filePath(name);
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray(1000, 'v'));
            f.close();
            const QFileInfo info(path);
            videos.append({path, SamplingRule::everyNFrames(5), 40, info.size(), info.lastModified().toMSecsSinceEpoch()});
        }
        const QString file = dir.filePath(QStringLiteral("session.json"));
        QString error;
        QVERIFY2(SessionStore::save({}, file, &error, videos), qPrintable(error));
        QFile changed(videos.at(1).path);
        QVERIFY(changed.open(QIODevice::Append));
        changed.write("more");
        changed.close();
        QVERIFY(QFile::remove(videos.at(2).path));

        VideoSamplings back;
        int dropped = 0;
        QVERIFY(SessionStore::load(file, &dropped, &error, &back).isEmpty());
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(back.size(), 1);
        QCOMPARE(back.first().path, videos.first().path);
        QCOMPARE(back.first().resumeAfterIndex, qint64(40));
        QCOMPARE(back.first().rule.mode, SamplingRule::Mode::EveryNFrames);
        QCOMPARE(back.first().rule.everyFrames, 5);
    }

    void loadCorruptSession_givesEmptyListAndReason()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("session.json"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"version\": 1, \"items\": [ {\"path\": ");
        f.close();
        QString error;
        QVERIFY(SessionStore::load(file, nullptr, &error).isEmpty());
        QVERIFY(!error.isEmpty());
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"version\": 99, \"items\": []}");
        f.close();
        error.clear();
        QVERIFY(SessionStore::load(file, nullptr, &error).isEmpty());
        QVERIFY(error.contains(QStringLiteral("99")));
        error.clear();
        QVERIFY(SessionStore::load(dir.filePath(QStringLiteral("none.json")), nullptr, &error).isEmpty());
        QVERIFY(error.isEmpty()); // no session yet is not an error
    }
};

QTEST_GUILESS_MAIN(TestGalleryModel)
#include "tst_gallerymodel.moc"
