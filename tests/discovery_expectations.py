"""What link discovery must find on each saved real council page in ../shared/realdata/pages.

Written by reading each page (its headings, rows and links), never from discovery's output; ``how``
says how the kind, format and period of its links were established. Each ``table`` line is one data
link: the URL (after ``url_prefix``), its format, its kind and its period (``YYYY-MM`` or
``YYYY-MM..YYYY-MM``). No other link on the page is data. Used by tests/test_discovery_pages.py and
benchmarks/bench_discovery.py.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ExpectedLink:
    """One data link a reader of the page finds."""

    url: str
    format: str
    kind: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class SavedPage:
    """A saved page, the URL it was saved from, and its data links."""

    name: str
    base_url: str
    url_prefix: str
    how: str
    table: str

    def links(self) -> list[ExpectedLink]:
        """The table as links, in page order."""
        found = []
        for line in self.table.strip().splitlines():
            url, fmt, kind, period = line.split()
            first, _, last = period.partition("..")
            start, end = _month(first), _month(last or first)
            found.append(
                ExpectedLink(
                    self.url_prefix + url,
                    fmt,
                    kind,
                    start,
                    end.replace(day=calendar.monthrange(end.year, end.month)[1]),
                )
            )
        return found


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


PAGES = [
    SavedPage(
        "calderdale__council-spending-2010.html",
        "http://www.calderdale.gov.uk/council/finances/income-spending/index.jsp?year=2010",
        "http://www.calderdale.gov.uk/council/finances/income-spending/",
        """Relative links under h3 "2010 Data files", itself under h2 "Payments to suppliers": the kind is
    spend_over_500 from that h2, the format is the extension, the month is the link text ("December [CSV
    file 1747KB]") and the year is the h3 (and the page's year, ?year=2010).""",
        """
    2010/December.csv csv spend_over_500 2010-12
    2010/December.xls xls spend_over_500 2010-12
    2010/November.xls xls spend_over_500 2010-11
    2010/November.csv csv spend_over_500 2010-11
    2010/October.xls xls spend_over_500 2010-10
    2010/October.csv csv spend_over_500 2010-10
""",
    ),
    SavedPage(
        "calderdale__council-spending-2015.html",
        "http://www.calderdale.gov.uk/council/finances/income-spending/index.jsp?year=2015",
        "http://www.calderdale.gov.uk/council/finances/income-spending/",
        """As 2010. Under h3 "Card payments" (a sibling of "2015 Data files", not under it) the links say
    "December card payments [CSV file 47KB]": kind purchase_card from the text, month from the text, year
    from the folder in the URL (2015/December-card-payments.csv) and the page (?year=2015).""",
        """
    2015/December.xls xls spend_over_500 2015-12
    2015/December.csv csv spend_over_500 2015-12
    2015/November.csv csv spend_over_500 2015-11
    2015/November.xls xls spend_over_500 2015-11
    2015/October.csv csv spend_over_500 2015-10
    2015/October.xls xls spend_over_500 2015-10
    2015/September.xls xls spend_over_500 2015-09
    2015/September.csv csv spend_over_500 2015-09
    2015/August.xls xls spend_over_500 2015-08
    2015/August.csv csv spend_over_500 2015-08
    2015/July.xls xls spend_over_500 2015-07
    2015/July.csv csv spend_over_500 2015-07
    2015/June.xls xls spend_over_500 2015-06
    2015/June.csv csv spend_over_500 2015-06
    2015/May.xls xls spend_over_500 2015-05
    2015/May.csv csv spend_over_500 2015-05
    2015/April.csv csv spend_over_500 2015-04
    2015/April.xls xls spend_over_500 2015-04
    2015/March.xls xls spend_over_500 2015-03
    2015/March.csv csv spend_over_500 2015-03
    2015/February.csv csv spend_over_500 2015-02
    2015/February.xls xls spend_over_500 2015-02
    2015/January.xls xls spend_over_500 2015-01
    2015/January.csv csv spend_over_500 2015-01
    2015/December-card-payments.xls xls purchase_card 2015-12
    2015/December-card-payments.csv csv purchase_card 2015-12
    2015/November-card-payments.xls xls purchase_card 2015-11
    2015/November-card-payments.csv csv purchase_card 2015-11
    2015/October-card-payments.xls xls purchase_card 2015-10
    2015/October-card-payments.csv csv purchase_card 2015-10
    2015/September-card-payments.csv csv purchase_card 2015-09
    2015/September-card-payments.xls xls purchase_card 2015-09
    2015/August-card-payments.csv csv purchase_card 2015-08
    2015/August-card-payments.xls xls purchase_card 2015-08
    2015/July-card-payments.xls xls purchase_card 2015-07
    2015/July-card-payments.csv csv purchase_card 2015-07
    2015/June-card-payments.xls xls purchase_card 2015-06
    2015/June-card-payments.csv csv purchase_card 2015-06
    2015/May-card-payments.xls xls purchase_card 2015-05
    2015/May-card-payments.csv csv purchase_card 2015-05
    2015/April-card-payments.csv csv purchase_card 2015-04
    2015/April-card-payments.xls xls purchase_card 2015-04
    2015/March-card-payments.csv csv purchase_card 2015-03
    2015/March-card-payments.xls xls purchase_card 2015-03
    2015/February-card-payments.csv csv purchase_card 2015-02
    2015/February-card-payments.xls xls purchase_card 2015-02
    2015/January-card-payments.xls xls purchase_card 2015-01
    2015/January-card-payments.csv csv purchase_card 2015-01
""",
    ),
    SavedPage(
        "calderdale__council-spending-2018.html",
        "http://www.calderdale.gov.uk/council/finances/income-spending/index.jsp?year=2018",
        "http://www.calderdale.gov.uk/council/finances/income-spending/",
        """As 2015: January to October 2018, spend and card payments, CSV and Excel.""",
        """
    2018/October.xls xls spend_over_500 2018-10
    2018/October.csv csv spend_over_500 2018-10
    2018/September.xls xls spend_over_500 2018-09
    2018/September.csv csv spend_over_500 2018-09
    2018/August.csv csv spend_over_500 2018-08
    2018/August.xls xls spend_over_500 2018-08
    2018/July.csv csv spend_over_500 2018-07
    2018/July.xls xls spend_over_500 2018-07
    2018/June.csv csv spend_over_500 2018-06
    2018/June.xls xls spend_over_500 2018-06
    2018/May.xls xls spend_over_500 2018-05
    2018/May.csv csv spend_over_500 2018-05
    2018/April.xls xls spend_over_500 2018-04
    2018/April.csv csv spend_over_500 2018-04
    2018/March.csv csv spend_over_500 2018-03
    2018/March.xls xls spend_over_500 2018-03
    2018/February.xls xls spend_over_500 2018-02
    2018/February.csv csv spend_over_500 2018-02
    2018/January.csv csv spend_over_500 2018-01
    2018/January.xls xls spend_over_500 2018-01
    2018/October-card-payments.csv csv purchase_card 2018-10
    2018/October-card-payments.xls xls purchase_card 2018-10
    2018/September-card-payments.xls xls purchase_card 2018-09
    2018/September-card-payments.csv csv purchase_card 2018-09
    2018/August-card-payments.xls xls purchase_card 2018-08
    2018/August-card-payments.csv csv purchase_card 2018-08
    2018/July-card-payments.csv csv purchase_card 2018-07
    2018/July-card-payments.xls xls purchase_card 2018-07
    2018/June-card-payments.csv csv purchase_card 2018-06
    2018/June-card-payments.xls xls purchase_card 2018-06
    2018/May-card-payments.xls xls purchase_card 2018-05
    2018/May-card-payments.csv csv purchase_card 2018-05
    2018/April-card-payments.csv csv purchase_card 2018-04
    2018/April-card-payments.xls xls purchase_card 2018-04
    2018/March-card-payments.csv csv purchase_card 2018-03
    2018/March-card-payments.xls xls purchase_card 2018-03
    2018/February-card-payments.xls xls purchase_card 2018-02
    2018/February-card-payments.csv csv purchase_card 2018-02
    2018/January-card-payments.csv csv purchase_card 2018-01
    2018/January-card-payments.xls xls purchase_card 2018-01
""",
    ),
    SavedPage(
        "darlington__council-spending-0.html",
        "https://www.darlington.gov.uk/your-council/council-information/financial-information/spending-data/",
        "https://www.darlington.gov.uk",
        """h1 "Spending data over £500", then one h2/h3 per month ("October 2018") over a paragraph with a CSV
    and a PDF link. Kind from the h1, format from the extension, period from the h2/h3 above the paragraph,
    which agrees with the file name. Where the link text disagrees with both (text "December 2016 CSV" for
    december_2015.csv under "December 2015"; "June 2015 PDF" for may_2015.pdf under "May 2015"; "December
    2014" for payments_over_500_-_dec_13.* under "December 2013") the heading and file name are taken.
    "July 2013 CSV" under "July 2013" links payments_over_500_-_june_13.csv: text and heading say July.
    payments_over_500_-_dec_13.csv is linked again under "November 2013": it is one file, first seen as
    December 2013. "July to September PDF" has its year in the heading (July to September 2010).""",
        """
    /media/7811/transactions_over_500_october__2018.csv csv spend_over_500 2018-10
    /media/7810/transactions_over_500_october__2018.pdf pdf spend_over_500 2018-10
    /media/7587/transactions_over_500_september__2018.csv csv spend_over_500 2018-09
    /media/7588/transactions_over_500_september__2018.pdf pdf spend_over_500 2018-09
    /media/7332/transactions_over_500_august__2018.csv csv spend_over_500 2018-08
    /media/7333/transactions_over_500_august__2018.pdf pdf spend_over_500 2018-08
    /media/7123/transactions_over_500_july__2018.csv csv spend_over_500 2018-07
    /media/7122/transactions_over_500_july__2018.pdf pdf spend_over_500 2018-07
    /media/6934/transactions_over_500_june_2018.csv csv spend_over_500 2018-06
    /media/6933/transactions_over_500_june_2018.pdf pdf spend_over_500 2018-06
    /media/4016/transactions_over_500_may_2018.csv csv spend_over_500 2018-05
    /media/4015/transactions_over_500_may_2018.pdf pdf spend_over_500 2018-05
    /media/4018/transactions_over_500_april_2018.csv csv spend_over_500 2018-04
    /media/4017/transactions_over_500_april_2018.pdf pdf spend_over_500 2018-04
    /media/4013/10_transactions_over_500_march_2018.csv csv spend_over_500 2018-03
    /media/4014/10_transactions_over_500_march_2018.pdf pdf spend_over_500 2018-03
    /media/4011/10_transactions_over_500_february_2018.csv csv spend_over_500 2018-02
    /media/4012/10_transactions_over_500_february_2018.pdf pdf spend_over_500 2018-02
    /media/4010/10_transactions_over_500_january_2018.csv csv spend_over_500 2018-01
    /media/4009/10_transactions_over_500_january_2018.pdf pdf spend_over_500 2018-01
    /media/4041/9_transactions_over_500_december_2017.csv csv spend_over_500 2017-12
    /media/4040/9_transactions_over_500_december_2017.pdf pdf spend_over_500 2017-12
    /media/4039/8_transactions_over_500_november_2017.csv csv spend_over_500 2017-11
    /media/4038/8_transactions_over_500_november_2017.pdf pdf spend_over_500 2017-11
    /media/4036/7_transactions_over_500_october_2017.csv csv spend_over_500 2017-10
    /media/4037/7_transactions_over_500_october_2017.pdf pdf spend_over_500 2017-10
    /media/4034/6_transactions_over_500_september_2017.csv csv spend_over_500 2017-09
    /media/1509309/6_Transactions_over_500_September_2017.pdf pdf spend_over_500 2017-09
    /media/4032/5_transactions_over_500_august_2017.csv csv spend_over_500 2017-08
    /media/4033/5_transactions_over_500_august_2017.pdf pdf spend_over_500 2017-08
    /media/4030/4_transactions_over_500_july_2017.csv csv spend_over_500 2017-07
    /media/4031/4_transactions_over_500_july_2017.pdf pdf spend_over_500 2017-07
    /media/4028/3_transactions_over_500_june_2017.csv csv spend_over_500 2017-06
    /media/4029/3_transactions_over_500_june_2017.pdf pdf spend_over_500 2017-06
    /media/4026/2_transactions_over_500_may_2017.csv csv spend_over_500 2017-05
    /media/4027/2_transactions_over_500_may_2017.pdf pdf spend_over_500 2017-05
    /media/4024/1_transactions_over_500_april_2017.csv csv spend_over_500 2017-04
    /media/4025/1_transactions_over_500_april_2017.pdf pdf spend_over_500 2017-04
    /media/4023/march_2017.csv csv spend_over_500 2017-03
    /media/1339520/March_2017.pdf pdf spend_over_500 2017-03
    /media/4022/february_2017.csv csv spend_over_500 2017-02
    /media/4021/february_2017.pdf pdf spend_over_500 2017-02
    /media/4020/january_2017.csv csv spend_over_500 2017-01
    /media/4019/january_2017.pdf pdf spend_over_500 2017-01
    /media/4063/december_2016.csv csv spend_over_500 2016-12
    /media/4065/december_2016.pdf pdf spend_over_500 2016-12
    /media/4059/november_2016.csv csv spend_over_500 2016-11
    /media/4061/november_2016.pdf pdf spend_over_500 2016-11
    /media/4055/october_2016.csv csv spend_over_500 2016-10
    /media/4057/october_2016.pdf pdf spend_over_500 2016-10
    /media/4058/september_2016_revised.csv csv spend_over_500 2016-09
    /media/4060/september_2016_revised.pdf pdf spend_over_500 2016-09
    /media/4048/august_2016_revised.csv csv spend_over_500 2016-08
    /media/4049/august_2016_revised.pdf pdf spend_over_500 2016-08
    /media/4050/july_2016_revised.csv csv spend_over_500 2016-07
    /media/4051/july_2016_revised.pdf pdf spend_over_500 2016-07
    /media/4052/june_2016_revised.csv csv spend_over_500 2016-06
    /media/4053/june_2016_revised.pdf pdf spend_over_500 2016-06
    /media/4054/may_2016_revised.csv csv spend_over_500 2016-05
    /media/4056/may_2016_revised.pdf pdf spend_over_500 2016-05
    /media/1455036/April_2016_revised.csv csv spend_over_500 2016-04
    /media/4064/april_2016_revised.pdf pdf spend_over_500 2016-04
    /media/4047/march_2016.csv csv spend_over_500 2016-03
    /media/4046/march_2016.pdf pdf spend_over_500 2016-03
    /media/4045/february_2016.csv csv spend_over_500 2016-02
    /media/4044/february_2016.pdf pdf spend_over_500 2016-02
    /media/4043/january_2016.csv csv spend_over_500 2016-01
    /media/4042/january_2016.pdf pdf spend_over_500 2016-01
    /media/4184/december_2015.csv csv spend_over_500 2015-12
    /media/4183/december_2015.pdf pdf spend_over_500 2015-12
    /media/4181/november_2015.csv csv spend_over_500 2015-11
    /media/4182/november_2015.pdf pdf spend_over_500 2015-11
    /media/4175/october_2015.csv csv spend_over_500 2015-10
    /media/4176/october_2015.pdf pdf spend_over_500 2015-10
    /media/4186/september_2015.csv csv spend_over_500 2015-09
    /media/4185/september_2015.pdf pdf spend_over_500 2015-09
    /media/4177/august_2015.csv csv spend_over_500 2015-08
    /media/4178/august_2015.pdf pdf spend_over_500 2015-08
    /media/4179/july_2015.csv csv spend_over_500 2015-07
    /media/4180/july_2015.pdf pdf spend_over_500 2015-07
    /media/4171/june_2015.csv csv spend_over_500 2015-06
    /media/4172/june_2015.pdf pdf spend_over_500 2015-06
    /media/4173/may_2015.csv csv spend_over_500 2015-05
    /media/4174/may_2015.pdf pdf spend_over_500 2015-05
    /media/4169/april_2015.csv csv spend_over_500 2015-04
    /media/4170/april_2015.pdf pdf spend_over_500 2015-04
    /media/4167/march__15-_including_orders_numbers.csv csv spend_over_500 2015-03
    /media/4168/march__15-_including_orders_numbers.pdf pdf spend_over_500 2015-03
    /media/4158/february_15-_including_orders_numbers.csv csv spend_over_500 2015-02
    /media/4157/february_15-_including_orders_numbers.pdf pdf spend_over_500 2015-02
    /media/4159/january_15-csv_including_orders_numbers.csv csv spend_over_500 2015-01
    /media/4156/january_15-_including_orders_numbers.pdf pdf spend_over_500 2015-01
    /media/4160/december__14_-_including_orders_numberscsv.csv csv spend_over_500 2014-12
    /media/4155/december__14_-_including_orders_numbers.pdf pdf spend_over_500 2014-12
    /media/4161/november___14_-_including_orders_numbers.csv csv spend_over_500 2014-11
    /media/4152/november___14_-_including_orders_numbers.pdf pdf spend_over_500 2014-11
    /media/4162/october__14_-_including_orders_numbers.csv csv spend_over_500 2014-10
    /media/4154/october__14_-_including_orders_numbers.pdf pdf spend_over_500 2014-10
    /media/4164/september_t_14_-_including_orders_numbers.csv csv spend_over_500 2014-09
    /media/4153/september_t_14_-_including_orders_numbers.pdf pdf spend_over_500 2014-09
    /media/4165/august_14_-_including_orders_numbers.csv csv spend_over_500 2014-08
    /media/4151/august_14_-_including_orders_numbers.pdf pdf spend_over_500 2014-08
    /media/4163/july_14_-_including_orders_numbers.csv csv spend_over_500 2014-07
    /media/4143/july_14_-_including_orders_numbers.pdf pdf spend_over_500 2014-07
    /media/4166/june_14_-_including_orders_numbers.csv csv spend_over_500 2014-06
    /media/4144/june_14_-_including_orders_numbers.pdf pdf spend_over_500 2014-06
    /media/4142/may_14-csv.csv csv spend_over_500 2014-05
    /media/4141/may_14-pdf.pdf pdf spend_over_500 2014-05
    /media/4137/apr_14csv.csv csv spend_over_500 2014-04
    /media/4138/apr_14pdf.pdf pdf spend_over_500 2014-04
    /media/4139/mar_14csv.csv csv spend_over_500 2014-03
    /media/4140/mar_14pdf.pdf pdf spend_over_500 2014-03
    /media/4066/payments_over_500_-_feb_14.csv csv spend_over_500 2014-02
    /media/4067/payments_over_500_-_feb_14.pdf pdf spend_over_500 2014-02
    /media/4068/payments_over_500_-_jan_14.csv csv spend_over_500 2014-01
    /media/4069/payments_over_500_-_jan_14.pdf pdf spend_over_500 2014-01
    /media/4070/payments_over_500_-_dec_13.csv csv spend_over_500 2013-12
    /media/4071/payments_over_500_-_dec_13.pdf pdf spend_over_500 2013-12
    /media/4072/payments_over_500_-_nov_13.pdf pdf spend_over_500 2013-11
    /media/4073/payments_over_500_-_oct_13.csv csv spend_over_500 2013-10
    /media/4074/payments_over_500_-_oct_13.pdf pdf spend_over_500 2013-10
    /media/4075/payments_over_500_-_sept_13.csv csv spend_over_500 2013-09
    /media/4076/payments_over_500_-_sept_13.pdf pdf spend_over_500 2013-09
    /media/4077/payments_over_500_-_august_13.csv csv spend_over_500 2013-08
    /media/336471/Payments_Over_500_-_August_13.pdf pdf spend_over_500 2013-08
    /media/4079/payments_over_500_-_june_13.csv csv spend_over_500 2013-07
    /media/4078/payments_over_500_-_july_13.pdf pdf spend_over_500 2013-07
    /media/4145/payments_over_500_-_june_13.csv csv spend_over_500 2013-06
    /media/4146/payments_over_500_-_june_13.pdf pdf spend_over_500 2013-06
    /media/4148/payments_over_500_-_may_13.csv csv spend_over_500 2013-05
    /media/4150/payments_over_500_-_may_13.pdf pdf spend_over_500 2013-05
    /media/4080/payments_over_500_-_april_13.csv csv spend_over_500 2013-04
    /media/4081/payments_over_500_-_april_13.pdf pdf spend_over_500 2013-04
    /media/4082/payments_over_500_-_march_13.csv csv spend_over_500 2013-03
    /media/4083/payments_over_500_-_march_13.pdf pdf spend_over_500 2013-03
    /media/4084/payments_over_500_-_february_13.csv csv spend_over_500 2013-02
    /media/4085/payments_over_500_-_february_13.pdf pdf spend_over_500 2013-02
    /media/4086/paymentsjan13.csv csv spend_over_500 2013-01
    /media/4087/paymentsjan13.pdf pdf spend_over_500 2013-01
    /media/4088/payments_over_500_-_december_12.csv csv spend_over_500 2012-12
    /media/4089/payments_over_500_-_december_12.pdf pdf spend_over_500 2012-12
    /media/69949/Payments_Over_500_-_November_12.pdf pdf spend_over_500 2012-11
    /media/4090/payments_over_500_-_october_12.csv csv spend_over_500 2012-10
    /media/4091/payments_over_500_-_october_12.pdf pdf spend_over_500 2012-10
    /media/4092/payments_over_500_-_september_12.csv csv spend_over_500 2012-09
    /media/4093/payments_over_500_-_september_12.pdf pdf spend_over_500 2012-09
    /media/4094/payments_over_500_-_august_12.csv csv spend_over_500 2012-08
    /media/4095/payments_over_500_-_august_12.pdf pdf spend_over_500 2012-08
    /media/4096/payments_over_500_-_july_12.csv csv spend_over_500 2012-07
    /media/4097/payments_over_500_-_july_12.pdf pdf spend_over_500 2012-07
    /media/4098/payments_over_500_-_june_12.csv csv spend_over_500 2012-06
    /media/4099/payments_over_500_-_june_12.pdf pdf spend_over_500 2012-06
    /media/4100/payments_over_500_-_may_12.csv csv spend_over_500 2012-05
    /media/4101/payments_over_500_-_may_12.pdf pdf spend_over_500 2012-05
    /media/4102/payments_over_500_-_april_12.csv csv spend_over_500 2012-04
    /media/4103/payments_over_500_-_april_12.pdf pdf spend_over_500 2012-04
    /media/4104/payments_over_500-march_2012.csv csv spend_over_500 2012-03
    /media/4105/payments_over_500-march_2012.pdf pdf spend_over_500 2012-03
    /media/4106/payments_over_500-february_2012.csv csv spend_over_500 2012-02
    /media/4107/payments_over_500-february_2012.pdf pdf spend_over_500 2012-02
    /media/4108/payments_over_500-january_2012.csv csv spend_over_500 2012-01
    /media/4109/payments_over_500-january_2012.pdf pdf spend_over_500 2012-01
    /media/4110/payments_over_500-december_2011.csv csv spend_over_500 2011-12
    /media/4111/payments_over_500-december_2011.pdf pdf spend_over_500 2011-12
    /media/4112/payments_over_500-november_2011.csv csv spend_over_500 2011-11
    /media/4113/payments_over_500-november_2011.pdf pdf spend_over_500 2011-11
    /media/4114/payments_over_500_-_october_2011.csv csv spend_over_500 2011-10
    /media/4115/payments_over_500_-_october_2011.pdf pdf spend_over_500 2011-10
    /media/4116/payments_over_500_-_september_2011.csv csv spend_over_500 2011-09
    /media/4117/payments_over_500_-_september_2011.pdf pdf spend_over_500 2011-09
    /media/4118/payments_over_500_-_august_2011.csv csv spend_over_500 2011-08
    /media/4119/payments_over_500_-_august_2011.pdf pdf spend_over_500 2011-08
    /media/4120/payments_over_500-july_2011.csv csv spend_over_500 2011-07
    /media/4121/payments_over_500-july_2011.pdf pdf spend_over_500 2011-07
    /media/4122/payments_over_500_-_june_2011.csv csv spend_over_500 2011-06
    /media/4123/payments_over_500_-_june_2011.pdf pdf spend_over_500 2011-06
    /media/4124/payments_over_500_-_may_2011.csv csv spend_over_500 2011-05
    /media/4125/payments_over_500_-_may_2011.pdf pdf spend_over_500 2011-05
    /media/4126/payments_over_500_-_april_2011.csv csv spend_over_500 2011-04
    /media/4127/payments_over_500_-_april_2011.pdf pdf spend_over_500 2011-04
    /media/4128/payments_over_500_-_march_2011.csv csv spend_over_500 2011-03
    /media/4129/payments_over_500_-_march_2011.pdf pdf spend_over_500 2011-03
    /media/4130/payments_over_500_-_feb_run_2011.csv csv spend_over_500 2011-02
    /media/4131/payments_over_500_-_feb_run_2011.pdf pdf spend_over_500 2011-02
    /media/4132/payments_over_500_-_jan_2011.csv csv spend_over_500 2011-01
    /media/4149/payments_over_500_-_jan_2011.pdf pdf spend_over_500 2011-01
    /media/4133/dbc_over_500_oct_-_dec_2010.csv csv spend_over_500 2010-10..2010-12
    /media/4134/dbc_over_500_oct_-_dec_2010_.pdf pdf spend_over_500 2010-10..2010-12
    /media/4135/dbc-over-500_julysep2010.csv csv spend_over_500 2010-07..2010-09
    /media/4136/dbc-over-500_julysep2010.pdf pdf spend_over_500 2010-07..2010-09
""",
    ),
    SavedPage(
        "harrogate__council-spending.html",
        "https://www.harrogate.gov.uk/downloads/download/99/expenditure_documents",
        "https://www.harrogate.gov.uk/downloads/file/",
        """A list of extension-less links whose text says everything: "2018 September supplier spend - pdf
    document"; the list item's tag ("PDF", "CSV") agrees. Kind from "supplier spend", format and month
    from the text.""",
        """
    4300/2018_september_supplier_spend_-_pdf_document pdf spend_over_500 2018-09
    4301/2018_september_supplier_spend_-_csv_file csv spend_over_500 2018-09
    4214/2018_august_supplier_spend_-_pdf_document pdf spend_over_500 2018-08
    4213/2018_august_supplier_spend_-_csv_file csv spend_over_500 2018-08
    4137/2018_july_supplier_spend_-_pdf_document pdf spend_over_500 2018-07
    4138/2018_july_supplier_spend_-_csv_file csv spend_over_500 2018-07
    4043/2018_june_supplier_spend_-_pdf_document pdf spend_over_500 2018-06
    4042/2018_june_supplier_spend_-_csv_file csv spend_over_500 2018-06
    3995/2018_may_supplier_spend_-_pdf_document pdf spend_over_500 2018-05
    3994/2018_may_supplier_spend_-_csv_file csv spend_over_500 2018-05
    3907/2018_april_supplier_spend_-_pdf_document pdf spend_over_500 2018-04
    3906/2018_april_supplier_spend_-_csv_file csv spend_over_500 2018-04
    3777/2018_march_supplier_spend_-_pdf_document pdf spend_over_500 2018-03
    3776/2018_march_supplier_spend_-_csv_file csv spend_over_500 2018-03
    3520/2018_february_supplier_spend_-_pdf_document pdf spend_over_500 2018-02
    3521/2018_february_supplier_spend_-_csv_file csv spend_over_500 2018-02
    3458/2018_january_supplier_spend_-_pdf_document pdf spend_over_500 2018-01
    3457/2018_january_supplier_spend_-_csv_file csv spend_over_500 2018-01
    3233/2017_december_supplier_spend_-_pdf_document pdf spend_over_500 2017-12
    3234/2017_december_supplier_spend_-_csv_file csv spend_over_500 2017-12
    3145/2017_november_supplier_spend_-_pdf_document pdf spend_over_500 2017-11
    3146/2017_november_supplier_spend_-_csv_file csv spend_over_500 2017-11
    3059/2017_october_supplier_spend_-_pdf_document pdf spend_over_500 2017-10
    3058/2017_october_supplier_spend_-_csv_file csv spend_over_500 2017-10
    2987/2017_september_supplier_spend_-_pdf_document pdf spend_over_500 2017-09
    2986/2017_september_supplier_spend_-_csv_document csv spend_over_500 2017-09
    2874/2017_august_supplier_spend_-_pdf_document pdf spend_over_500 2017-08
    2873/2017_august_supplier_spend_-_csv_file csv spend_over_500 2017-08
    2805/2017_july_supplier_spend_-_pdf_document pdf spend_over_500 2017-07
    2804/2017_july_supplier_spend_-_csv_file csv spend_over_500 2017-07
    2806/2017_june_supplier_spend_-_pdf_document pdf spend_over_500 2017-06
    2807/2017_june_supplier_spend_-_csv_file csv spend_over_500 2017-06
    2676/2017_may_supplier_spend_-_pdf_document pdf spend_over_500 2017-05
    2675/2017_may_supplier_spend_-_csv_file csv spend_over_500 2017-05
    2627/2017_april_supplier_spend_-_pdf_document pdf spend_over_500 2017-04
    2629/2017_april_supplier_spend_-_csv_file csv spend_over_500 2017-04
    2539/2017_march_supplier_spend_-_pdf_document pdf spend_over_500 2017-03
    2540/2017_march_supplier_spend_-_csv_file csv spend_over_500 2017-03
    2445/2017_february_supplier_spend_-_pdf_document pdf spend_over_500 2017-02
    2444/2017_february_supplier_spend_-_csv_file csv spend_over_500 2017-02
    2354/2017_january_supplier_spend_-_pdf_document pdf spend_over_500 2017-01
    2355/2017_january_supplier_spend_-_csv_file csv spend_over_500 2017-01
    2271/2016_december_supplier_spend_-_pdf_document pdf spend_over_500 2016-12
    2270/2016_december_supplier_spend_-_csv_file csv spend_over_500 2016-12
    2224/2016_november_supplier_spend_-_pdf_document pdf spend_over_500 2016-11
    2223/2016_november_supplier_spend_-_csv_file csv spend_over_500 2016-11
    2166/2016_october_supplier_spend_-_pdf_document pdf spend_over_500 2016-10
    2165/2016_october_supplier_spend_-_csv_file csv spend_over_500 2016-10
    1837/2016_september_supplier_spend_-_pdf_document pdf spend_over_500 2016-09
    1836/2016_september_supplier_spend_-_csv_file csv spend_over_500 2016-09
    1745/2016_august_supplier_spend_-_pdf_document pdf spend_over_500 2016-08
    1744/2016_august_supplier_spend_-_csv_file csv spend_over_500 2016-08
    1648/2016_july_supplier_spend_-_pdf_document pdf spend_over_500 2016-07
    1647/2016_july_supplier_spend_-_csv_file csv spend_over_500 2016-07
    1586/2016_june_supplier_spend_-_pdf_document pdf spend_over_500 2016-06
    1585/2016_june_supplier_spend_-_csv_file csv spend_over_500 2016-06
    1276/2016_may_supplier_spend_-_pdf_document pdf spend_over_500 2016-05
    1277/2016_may_supplier_spend_-_csv_file csv spend_over_500 2016-05
    967/2016_april_supplier_spend_-_pdf_document pdf spend_over_500 2016-04
    966/2016_april_supplier_spend_-_xls_file xls spend_over_500 2016-04
    970/2016_march_supplier_spend_-_pdf_document pdf spend_over_500 2016-03
    968/2016_march_supplier_spend_-_csv_file csv spend_over_500 2016-03
    971/2016_february_supplier_spend_-_pdf_document pdf spend_over_500 2016-02
    969/2016_february_supplier_spend_-_csv_file csv spend_over_500 2016-02
    973/2016_january_supplier_spend_-_pdf_document pdf spend_over_500 2016-01
    972/2016_january_supplier_spend_-_csv_file csv spend_over_500 2016-01
    975/2015_december_supplier_spend_-_pdf_document pdf spend_over_500 2015-12
    974/2015_december_supplier_spend_-_csv_file csv spend_over_500 2015-12
    976/2015_november_supplier_spend_-_pdf_document pdf spend_over_500 2015-11
    977/2015_november_supplier_spend_-_csv_file csv spend_over_500 2015-11
    978/2015_october_supplier_spend_-_pdf_document pdf spend_over_500 2015-10
    979/2015_october_supplier_spend_-_csv_file csv spend_over_500 2015-10
    981/2015_september_supplier_spend_-_pdf_document pdf spend_over_500 2015-09
    980/2015_september_supplier_spend_-_csv_file csv spend_over_500 2015-09
    983/2015_august_supplier_spend_-_pdf_document pdf spend_over_500 2015-08
    991/2015_august_supplier_spend_-_csv_file csv spend_over_500 2015-08
    988/2015_july_supplier_spend_-_pdf_document pdf spend_over_500 2015-07
    985/2015_july_supplier_spend_-_csv_file csv spend_over_500 2015-07
    987/2015_june_supplier_spend_-_pdf_document pdf spend_over_500 2015-06
    984/2015_june_supplier_spend_-_csv_file csv spend_over_500 2015-06
    986/2015_may_supplier_spend_-_pdf_document pdf spend_over_500 2015-05
    982/2015_may_supplier_spend_-_csv_file csv spend_over_500 2015-05
    990/2015_april_supplier_spend_-_pdf_document pdf spend_over_500 2015-04
    989/2015_april_supplier_spend_-_csv_file csv spend_over_500 2015-04
""",
    ),
    SavedPage(
        "manchester__council-spending-0.html",
        "http://www.manchester.gov.uk/open/downloads/download/90/expenditure_exceeding_500_current_year",
        "http://www.manchester.gov.uk/open/downloads/file/",
        """Each list item has the text link "Expenditure exceeding £500 September 2018", an icon link to the same
    URL (CSV.gif) and the words "(CSV)": format from the list item, kind and month from the text.""",
        """
    568/expenditure_exceeding_500_september_2018 csv spend_over_500 2018-09
    567/expenditure_exceeding_500_august_2018 csv spend_over_500 2018-08
    564/expenditure_exceeding_500_july_2018 csv spend_over_500 2018-07
    548/expenditure_exceeding_500_june_2018 csv spend_over_500 2018-06
    543/expenditure_exceeding_500_may_2018 csv spend_over_500 2018-05
    503/expenditure_exceeding_500_april_2018 csv spend_over_500 2018-04
""",
    ),
    SavedPage(
        "manchester__council-spending-1.html",
        "https://www.manchester.gov.uk/open/downloads/75/expenditure_exceeding_500_2010_2011",
        "http://www.manchester.gov.uk/open/downloads/file/",
        """As page 0, in paragraphs under h4 "Expenditure exceeding £500 (2010 / 2011)"; months abbreviated
    ("Dec 2010").""",
        """
    187/expenditure_exceeding_500_dec_2010 csv spend_over_500 2010-12
    98/expenditure_exceeding_500_jan_2011 csv spend_over_500 2011-01
    102/expenditure_exceeding_500_feb_2011 csv spend_over_500 2011-02
    100/expenditure_exceeding_500_mar_2011 csv spend_over_500 2011-03
""",
    ),
    SavedPage(
        "manchester__council-spending-7.html",
        "https://www.manchester.gov.uk/open/downloads/101/expenditure_exceeding_500_2016_2017",
        "http://www.manchester.gov.uk/open/downloads/file/",
        """As page 1, April 2016 to March 2017.""",
        """
    332/expenditure_exceeding_500_march_2017 csv spend_over_500 2017-03
    296/expenditure_exceeding_500_february_2017 csv spend_over_500 2017-02
    292/expenditure_exceeding_500_january_2017 csv spend_over_500 2017-01
    290/expenditure_exceeding_500_december_2016 csv spend_over_500 2016-12
    286/expenditure_exceeding_500_november_2016 csv spend_over_500 2016-11
    284/expenditure_exceeding_500_october_2016 csv spend_over_500 2016-10
    277/expenditure_exceeding_500_september_2016 csv spend_over_500 2016-09
    269/expenditure_exceeding_500_august_2016 csv spend_over_500 2016-08
    261/expenditure_exceeding_500_july_2016 csv spend_over_500 2016-07
    260/expenditure_exceeding_500_june_2016 csv spend_over_500 2016-06
    259/expenditure_exceeding_500_may_2016 csv spend_over_500 2016-05
    258/expenditure_exceeding_500_april_2016 csv spend_over_500 2016-04
""",
    ),
    SavedPage(
        "manchester__council-spending-8.html",
        "https://www.manchester.gov.uk/open/downloads/108/expenditure_exceeding_500_2017_2018",
        "http://www.manchester.gov.uk/open/downloads/file/",
        """As page 1, April 2017 to March 2018.""",
        """
    488/expenditure_exceeding_500_march_2018 csv spend_over_500 2018-03
    467/expenditure_exceeding_500_february_2018 csv spend_over_500 2018-02
    461/expenditure_exceeding_500_january_2018 csv spend_over_500 2018-01
    457/expenditure_exceeding_500_december_2017 csv spend_over_500 2017-12
    458/expenditure_exceeding_500_november_2017 csv spend_over_500 2017-11
    453/expenditure_exceeding_500_october_2017 csv spend_over_500 2017-10
    448/expenditure_exceeding_500_september_2017 csv spend_over_500 2017-09
    444/expenditure_exceeding_500_august_2017 csv spend_over_500 2017-08
    445/expenditure_exceeding_500_july_2017 csv spend_over_500 2017-07
    386/expenditure_exceeding_500_june_2017 csv spend_over_500 2017-06
    381/expenditure_exceeding_500_may_2017 csv spend_over_500 2017-05
    349/expenditure_exceeding_500_april_2017 csv spend_over_500 2017-04
""",
    ),
    SavedPage(
        "northtyneside__council-spending-0.html",
        "http://www.northtyneside.gov.uk/browse-display.shtml?p_ID=558030&p_subjectCategory=1178",
        "http://www.northtyneside.gov.uk/pls/portal/NTC_PSCM.PSCM_Web.download?p_ID=",
        """Oracle Portal download links (no file name) whose text says month, kind and format: "April 2014 spend
    over £250 - invoices & credit notes [csv]" (spend_over_500), "... - purchase cards [pdf]" and "... -
    Government Procurement Card [csv]" (purchase_card). The last link (p_ID=560124) repeats "March 2015 ...
    Government Procurement Card [csv]"; the page calls it csv, so csv is expected.""",
        """
    558156 csv spend_over_500 2014-04
    558157 pdf spend_over_500 2014-04
    558158 csv purchase_card 2014-04
    558159 pdf purchase_card 2014-04
    558152 csv spend_over_500 2014-05
    558153 pdf spend_over_500 2014-05
    558154 csv purchase_card 2014-05
    558155 pdf purchase_card 2014-05
    558148 csv spend_over_500 2014-06
    558149 pdf spend_over_500 2014-06
    558150 csv purchase_card 2014-06
    558151 pdf purchase_card 2014-06
    558144 csv spend_over_500 2014-07
    558145 pdf spend_over_500 2014-07
    558146 csv purchase_card 2014-07
    558147 pdf purchase_card 2014-07
    558140 csv spend_over_500 2014-08
    558141 pdf spend_over_500 2014-08
    558142 csv purchase_card 2014-08
    558143 pdf purchase_card 2014-08
    558038 csv spend_over_500 2014-09
    558039 pdf spend_over_500 2014-09
    558040 csv purchase_card 2014-09
    558041 pdf purchase_card 2014-09
    558034 csv spend_over_500 2014-10
    558035 pdf spend_over_500 2014-10
    558036 csv purchase_card 2014-10
    558037 pdf purchase_card 2014-10
    558031 csv spend_over_500 2014-11
    558032 pdf spend_over_500 2014-11
    558033 csv purchase_card 2014-11
    558028 pdf purchase_card 2014-11
    558166 csv spend_over_500 2014-12
    558167 pdf spend_over_500 2014-12
    558168 csv purchase_card 2014-12
    558179 pdf purchase_card 2014-12
    559264 csv spend_over_500 2015-01
    559265 pdf spend_over_500 2015-01
    559266 csv purchase_card 2015-01
    559267 pdf purchase_card 2015-01
    559629 csv spend_over_500 2015-02
    559630 pdf spend_over_500 2015-02
    559631 csv purchase_card 2015-02
    559632 pdf purchase_card 2015-02
    560120 csv spend_over_500 2015-03
    560121 pdf spend_over_500 2015-03
    560122 csv purchase_card 2015-03
    560124 csv purchase_card 2015-03
""",
    ),
    SavedPage(
        "northtyneside__council-spending-1.html",
        "http://www.northtyneside.gov.uk/browse-display.shtml?p_ID=560507&p_subjectCategory=1178",
        "http://www.northtyneside.gov.uk/pls/portal/NTC_PSCM.PSCM_Web.download?p_ID=",
        """As page 0, April 2015 to March 2016 ("Invoices and Credits").""",
        """
    560508 csv spend_over_500 2015-04
    560509 pdf spend_over_500 2015-04
    560510 csv purchase_card 2015-04
    560511 pdf purchase_card 2015-04
    561301 csv spend_over_500 2015-05
    561302 pdf spend_over_500 2015-05
    561303 csv purchase_card 2015-05
    561304 pdf purchase_card 2015-05
    561738 csv spend_over_500 2015-06
    561739 pdf spend_over_500 2015-06
    561740 csv purchase_card 2015-06
    561741 pdf purchase_card 2015-06
    562017 csv spend_over_500 2015-07
    562018 pdf spend_over_500 2015-07
    562622 csv purchase_card 2015-07
    562623 pdf purchase_card 2015-07
    562624 csv spend_over_500 2015-08
    562625 pdf spend_over_500 2015-08
    562626 csv purchase_card 2015-08
    562627 pdf purchase_card 2015-08
    562941 csv spend_over_500 2015-09
    562942 pdf spend_over_500 2015-09
    562943 csv purchase_card 2015-09
    562944 pdf purchase_card 2015-09
    563497 csv spend_over_500 2015-10
    563494 pdf spend_over_500 2015-10
    563495 csv purchase_card 2015-10
    563496 pdf purchase_card 2015-10
    563738 csv spend_over_500 2015-11
    563739 pdf spend_over_500 2015-11
    563740 csv purchase_card 2015-11
    563741 pdf purchase_card 2015-11
    564138 csv spend_over_500 2015-12
    564139 pdf spend_over_500 2015-12
    564140 csv purchase_card 2015-12
    564141 pdf purchase_card 2015-12
    564481 csv spend_over_500 2016-01
    564480 pdf spend_over_500 2016-01
    564483 csv purchase_card 2016-01
    564482 pdf purchase_card 2016-01
    564805 csv spend_over_500 2016-02
    564806 pdf spend_over_500 2016-02
    564807 csv purchase_card 2016-02
    564835 pdf purchase_card 2016-02
    565174 csv spend_over_500 2016-03
    565175 pdf spend_over_500 2016-03
    565176 csv purchase_card 2016-03
    565177 pdf purchase_card 2016-03
""",
    ),
    SavedPage(
        "northtyneside__council-spending-2.html",
        "http://www.northtyneside.gov.uk/browse-display.shtml?p_ID=565404&p_subjectCategory=1178",
        "http://www.northtyneside.gov.uk/pls/portal/NTC_PSCM.PSCM_Web.download?p_ID=",
        """As page 0, April 2016 to March 2017.""",
        """
    565496 csv spend_over_500 2016-04
    565498 pdf spend_over_500 2016-04
    565499 csv purchase_card 2016-04
    565500 pdf purchase_card 2016-04
    565916 csv spend_over_500 2016-05
    565917 pdf spend_over_500 2016-05
    565918 csv purchase_card 2016-05
    565919 pdf purchase_card 2016-05
    566157 csv spend_over_500 2016-06
    566158 pdf spend_over_500 2016-06
    566159 csv purchase_card 2016-06
    566160 pdf purchase_card 2016-06
    566342 csv spend_over_500 2016-07
    566343 pdf spend_over_500 2016-07
    566344 csv purchase_card 2016-07
    566345 pdf purchase_card 2016-07
    566614 csv spend_over_500 2016-08
    566615 pdf spend_over_500 2016-08
    566616 csv purchase_card 2016-08
    566617 pdf purchase_card 2016-08
    566847 csv spend_over_500 2016-09
    566848 pdf spend_over_500 2016-09
    566849 csv purchase_card 2016-09
    566850 pdf purchase_card 2016-09
    567227 csv spend_over_500 2016-10
    567228 pdf spend_over_500 2016-10
    567229 csv purchase_card 2016-10
    567230 pdf purchase_card 2016-10
    567463 csv spend_over_500 2016-11
    567464 pdf spend_over_500 2016-11
    567465 csv purchase_card 2016-11
    567466 pdf purchase_card 2016-11
    567864 csv spend_over_500 2016-12
    567865 pdf spend_over_500 2016-12
    567866 csv purchase_card 2016-12
    567867 pdf purchase_card 2016-12
    568495 csv spend_over_500 2017-01
    568496 pdf spend_over_500 2017-01
    568497 csv purchase_card 2017-01
    568498 pdf purchase_card 2017-01
    568631 csv spend_over_500 2017-02
    568632 pdf spend_over_500 2017-02
    568633 csv purchase_card 2017-02
    568635 pdf purchase_card 2017-02
    568832 csv spend_over_500 2017-03
    568833 pdf spend_over_500 2017-03
    568834 csv purchase_card 2017-03
    568835 pdf purchase_card 2017-03
""",
    ),
]
