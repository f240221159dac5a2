#include "texttable.h"

namespace edgelens {

TextTable::TextTable(const QList<Column> &columns, bool markdown)
    : m_columns(columns)
    , m_markdown(markdown)
{
    for (Column &column : m_columns)
        column.width = qMax(column.width, int(column.title.size()));
}

QString TextTable::header() const
{
    QStringList titles;
    for (const Column &column : m_columns)
        titles.append(column.title);
    QString text = row(titles);
    if (m_markdown) {
        QStringList rules;
        for (const Column &column : m_columns)
            rules.append(column.alignLeft ? QStringLiteral("---") : QStringLiteral("---:"));
        text += QStringLiteral("| ") + rules.join(QStringLiteral(" | ")) + QStringLiteral(" |\n");
    }
    return text;
}

QString TextTable::row(const QStringList &cells) const
{
    QStringList padded;
    for (qsizetype i = 0; i < m_columns.size(); ++i) {
        const Column &column = m_columns.at(i);
        const QString cell = cells.value(i);
        if (m_markdown)
            padded.append(cell);
        else
            padded.append(column.alignLeft ? cell.leftJustified(column.width) : cell.rightJustified(column.width));
    }
    if (m_markdown)
        return QStringLiteral("| ") + padded.join(QStringLiteral(" | ")) + QStringLiteral(" |\n");
    QString line = padded.join(QLatin1Char(' '));
    while (line.endsWith(QLatin1Char(' ')))
        line.chop(1);
    return line + QLatin1Char('\n');
}

} // namespace edgelens
