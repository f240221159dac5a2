#include "inputs/imagescanner.h"

#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;

class TestImageScanner : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void folder_isScannedRecursivelyWithRelativePaths();
    void unsupportedFiles_areCountedAsSkipped();
    void everySupportedSuffix_isAccepted_caseInsensitive();
    void fileNamedTwice_isListedOnce();
    void fileInsideNamedFolder_isNotDuplicated();
    void missingPath_isReported();
    void excludedFolder_isNotScanned();
    void excludedFolderAtOrAboveTheRoot_hidesNothing();
    void hiddenEntries_areIgnored();
    void symlinkedFile_isDeduplicated();
    void folderWithOutputMarker_isSkippedAndCounted();
    void folderNamedInferencedWithoutMarker_isScanned();
    void markedFolderNamedDirectly_isScanned();
    void symlinkedFolder_isNotFollowed();

private:
    void touch(const QString &path);
    QTemporaryDir m_dir;
};

void TestImageScanner::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    touch(QStringLiteral("set/a.jpg"));
    touch(QStringLiteral("set/b.PNG"));
    touch(QStringLiteral("set/notes.txt"));
    touch(QStringLiteral("set/sub/c.webp"));
    touch(QStringLiteral("set/sub/deeper/d.tiff"));
    touch(QStringLiteral("set/sub/readme.md"));
    touch(QStringLiteral("set/.hidden/e.jpg"));
    touch(QStringLiteral("set/.f.jpg"));
    touch(QStringLiteral("set/inferenced/a.jpg"));
}

void TestImageScanner::touch(const QString &relative)
{
    QVERIFY(test::writeFile(m_dir.filePath(relative), "x"));
}

void TestImageScanner::folder_isScannedRecursivelyWithRelativePaths()
{
    ImageScanner scanner;
    const ScanResult result = scanner.scan({m_dir.filePath(QStringLiteral("set"))});
    QStringList relative;
    for (const ScannedImage &image : result.images) {
        relative.append(image.relativePath);
        QVERIFY(QFileInfo(image.absolutePath).isAbsolute());
        QVERIFY(QFileInfo::exists(image.absolutePath));
        QVERIFY(image.absolutePath.endsWith(image.relativePath));
    }
    QCOMPARE(relative, QStringList({QStringLiteral("a.jpg"), QStringLiteral("b.PNG"), QStringLiteral("inferenced/a.jpg"),
                                    QStringLiteral("sub/c.webp"), QStringLiteral("sub/deeper/d.tiff")}));
    QVERIFY(result.missing.isEmpty());
}

void TestImageScanner::unsupportedFiles_areCountedAsSkipped()
{
    const ScanResult result = ImageScanner().scan({m_dir.filePath(QStringLiteral("set"))});
    QCOMPARE(result.skipped.size(), 2);
    QVERIFY(result.skipped.contains(m_dir.filePath(QStringLiteral("set/notes.txt"))));
    QVERIFY(result.skipped.contains(m_dir.filePath(QStringLiteral("set/sub/readme.md"))));
}

void TestImageScanner::everySupportedSuffix_isAccepted_caseInsensitive()
{
    for (const QString &suffix : ImageScanner::supportedSuffixes()) {
        QVERIFY2(ImageScanner::isSupportedImage(QStringLiteral("x.") + suffix), qPrintable(suffix));
        QVERIFY2(ImageScanner::isSupportedImage(QStringLiteral("x.") + suffix.toUpper()), qPrintable(suffix));
    }
    QCOMPARE(ImageScanner::supportedSuffixes().size(), 12);
    QVERIFY(!ImageScanner::isSupportedImage(QStringLiteral("x.gif")));
    QVERIFY(!ImageScanner::isSupportedImage(QStringLiteral("jpg")));
}

void TestImageScanner::fileNamedTwice_isListedOnce()
{
    const QString a = m_dir.filePath(QStringLiteral("set/a.jpg"));
    const ScanResult result = ImageScanner().scan({a, a, m_dir.filePath(QStringLiteral("set/../set/a.jpg"))});
    QCOMPARE(result.images.size(), 1);
    QCOMPARE(result.images.first().relativePath, QStringLiteral("a.jpg"));
    QCOMPARE(result.duplicates, 2);
}

void TestImageScanner::fileInsideNamedFolder_isNotDuplicated()
{
    const ScanResult result = ImageScanner().scan(
        {m_dir.filePath(QStringLiteral("set/sub/c.webp")), m_dir.filePath(QStringLiteral("set/sub"))});
    QCOMPARE(result.images.size(), 2);
    QCOMPARE(result.images.at(0).relativePath, QStringLiteral("c.webp"));
    QCOMPARE(result.images.at(1).relativePath, QStringLiteral("deeper/d.tiff"));
    QCOMPARE(result.duplicates, 1);
}

void TestImageScanner::missingPath_isReported()
{
    const QString missing = m_dir.filePath(QStringLiteral("nope.jpg"));
    const ScanResult result = ImageScanner().scan({missing, m_dir.filePath(QStringLiteral("set/a.jpg"))});
    QCOMPARE(result.missing, QStringList{missing});
    QCOMPARE(result.images.size(), 1);
}

void TestImageScanner::excludedFolder_isNotScanned()
{
    ImageScanner scanner;
    scanner.setExcludedFolders({m_dir.filePath(QStringLiteral("set/inferenced"))});
    const ScanResult result = scanner.scan({m_dir.filePath(QStringLiteral("set"))});
    for (const ScannedImage &image : result.images)
        QVERIFY2(!image.relativePath.startsWith(QStringLiteral("inferenced")), qPrintable(image.relativePath));
    QCOMPARE(result.images.size(), 4);
    QCOMPARE(result.skippedOutputFolders, 1);
    QCOMPARE(result.skippedOutputImages, 1);
}

void TestImageScanner::excludedFolderAtOrAboveTheRoot_hidesNothing()
{
    for (const QString &folder : {QStringLiteral("set"), QString()}) {
        ImageScanner scanner;
        scanner.setExcludedFolders({m_dir.filePath(folder)});
        QCOMPARE(scanner.scan({m_dir.filePath(QStringLiteral("set"))}).images.size(), 5);
    }
}

void TestImageScanner::hiddenEntries_areIgnored()
{
    const ScanResult result = ImageScanner().scan({m_dir.filePath(QStringLiteral("set"))});
    QCOMPARE(result.images.size(), 5); // the visible ones, without .hidden/e.jpg and .f.jpg
    for (const ScannedImage &image : result.images)
        QVERIFY2(!image.relativePath.contains(QStringLiteral("/.")) && !image.relativePath.startsWith(QLatin1Char('.')),
                 qPrintable(image.relativePath));
}

void TestImageScanner::symlinkedFile_isDeduplicated()
{
    const QString link = m_dir.filePath(QStringLiteral("link.jpg"));
    QVERIFY(QFile::link(m_dir.filePath(QStringLiteral("set/a.jpg")), link));
    const ScanResult result = ImageScanner().scan({m_dir.filePath(QStringLiteral("set/a.jpg")), link});
    QCOMPARE(result.images.size(), 1);
    QCOMPARE(result.duplicates, 1);
    QFile::remove(link);
}

void TestImageScanner::folderWithOutputMarker_isSkippedAndCounted()
{
    touch(QStringLiteral("marked/photo.jpg"));
    touch(QStringLiteral("marked/trip/beach.jpg"));
    touch(QStringLiteral("marked/trip/results/beach.jpg"));
    touch(QStringLiteral("marked/trip/results/beach.json"));
    touch(QStringLiteral("marked/trip/results/deeper/x.png"));
    touch(QStringLiteral("marked/trip/results/") + ImageScanner::outputMarkerName());
    QVERIFY(ImageScanner::isOutputFolder(m_dir.filePath(QStringLiteral("marked/trip/results"))));
    QVERIFY(!ImageScanner::isOutputFolder(m_dir.filePath(QStringLiteral("marked/trip"))));

    const ScanResult result = ImageScanner().scan({m_dir.filePath(QStringLiteral("marked"))});
    QStringList relative;
    for (const ScannedImage &image : result.images)
        relative.append(image.relativePath);
    QCOMPARE(relative, QStringList({QStringLiteral("photo.jpg"), QStringLiteral("trip/beach.jpg")}));
    QCOMPARE(result.skippedOutputFolders, 1);
    QCOMPARE(result.skippedOutputImages, 2); // beach.jpg and deeper/x.png; the sidecar is no image
    QVERIFY(result.skipped.isEmpty());       // nothing of the output folder is listed at all
}

void TestImageScanner::folderNamedInferencedWithoutMarker_isScanned()
{
    // A folder a person happened to call "inferenced" holds photos, not our output.
    touch(QStringLiteral("named/inferenced/mine.jpg"));
    const ScanResult result = ImageScanner().scan({m_dir.filePath(QStringLiteral("named"))});
    QCOMPARE(result.images.size(), 1);
    QCOMPARE(result.images.first().relativePath, QStringLiteral("inferenced/mine.jpg"));
    QCOMPARE(result.skippedOutputFolders, 0);
    QCOMPARE(result.skippedOutputImages, 0);
}

void TestImageScanner::markedFolderNamedDirectly_isScanned()
{
    touch(QStringLiteral("direct/r.jpg"));
    touch(QStringLiteral("direct/") + ImageScanner::outputMarkerName());
    const ScanResult result = ImageScanner().scan({m_dir.filePath(QStringLiteral("direct"))});
    QCOMPARE(result.images.size(), 1);
    QCOMPARE(result.skippedOutputFolders, 0);
}

void TestImageScanner::symlinkedFolder_isNotFollowed()
{
    touch(QStringLiteral("linked/real/a.jpg"));
    QVERIFY(QFile::link(m_dir.filePath(QStringLiteral("linked/real")), m_dir.filePath(QStringLiteral("linked/alias"))));
    QVERIFY(QFile::link(m_dir.filePath(QStringLiteral("linked")), m_dir.filePath(QStringLiteral("linked/real/up"))));
    const ScanResult result = ImageScanner().scan({m_dir.filePath(QStringLiteral("linked"))});
    QCOMPARE(result.images.size(), 1);
    QCOMPARE(result.images.first().relativePath, QStringLiteral("real/a.jpg"));
}

QTEST_GUILESS_MAIN(TestImageScanner)
#include "tst_imagescanner.moc"
