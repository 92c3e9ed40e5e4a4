<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About GridDesk</source>
        <translation>关于 GridDesk</translation>
    </message>
    <message>
        <source>The branch supervisor&apos;s workbench for the community grid programme of orphan policies.</source>
        <translation>机构主管开展孤儿单社区网格化经营的工作台。</translation>
    </message>
    <message>
        <source>Database in use: %1</source>
        <translation>正在使用的数据库：%1</translation>
    </message>
    <message>
        <source>Qt %1, Python %2</source>
        <translation>Qt %1，Python %2</translation>
    </message>
    <message>
        <source>Chinese font: %1</source>
        <translation>中文字体：%1</translation>
    </message>
    <message>
        <source>Bundled parts and their licences:</source>
        <translation>附带的组件及其许可证：</translation>
    </message>
    <message>
        <source>%1 %2, used for %3. Licence: %4.</source>
        <translation>%1 %2，用于%3。许可证：%4。</translation>
    </message>
</context>
<context>
    <name>AddUserDialog</name>
    <message>
        <source>Add user</source>
        <translation>添加用户</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Teams</source>
        <translation>团队</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Password again</source>
        <translation>再次输入密码</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Enter a user name without spaces.</source>
        <translation>请输入不含空格的用户名。</translation>
    </message>
    <message>
        <source>Enter the name the app shows for this user.</source>
        <translation>请输入本软件为该用户显示的姓名。</translation>
    </message>
    <message>
        <source>Tick the supervisor&apos;s teams.</source>
        <translation>请勾选该主管负责的团队。</translation>
    </message>
</context>
<context>
    <name>BranchDialog</name>
    <message>
        <source>Branch settings</source>
        <translation>机构设置</translation>
    </message>
    <message>
        <source>%1 days after the due date</source>
        <translation>应缴日后 %1 天</translation>
    </message>
    <message>
        <source> yuan</source>
        <translation> 元</translation>
    </message>
    <message>
        <source>Imports and persistency</source>
        <translation>导入与继续率</translation>
    </message>
    <message>
        <source>Grace period</source>
        <translation>宽限期</translation>
    </message>
    <message>
        <source>Largest premium, due or receipt an import accepts</source>
        <translation>导入可接受的单笔保费、应缴或实收上限</translation>
    </message>
    <message>
        <source>Hand-off targets, days from pool entry</source>
        <translation>交接时效目标（自入池起的天数）</translation>
    </message>
    <message>
        <source>Agent-change SMS sent</source>
        <translation>代理人变更短信已发送</translation>
    </message>
    <message>
        <source>First contact (pre-sell done: 建联加微)</source>
        <translation>首次联系（建联加微完成）</translation>
    </message>
    <message>
        <source>First service (renewal collected or service done)</source>
        <translation>首次服务（续收或保全完成）</translation>
    </message>
    <message>
        <source>A customer past a target with the milestone not reached is listed under Tasks ▸ Hand-offs late; the roster shows each specialist&apos;s share on time.</source>
        <translation>超过目标天数仍未达成的客户列在“任务 ▸ 交接超时”中；花名册显示每位专员的按时达成比例。</translation>
    </message>
    <message>
        <source>Only the branch&apos;s senior supervisor changes these; you see them read-only.</source>
        <translation>这些设置只能由本机构的资深主管修改；您只能查看。</translation>
    </message>
    <message>
        <source>An offline copy is read-only.</source>
        <translation>离线副本为只读。</translation>
    </message>
    <message>
        <source> days</source>
        <translation> 天</translation>
    </message>
    <message>
        <source>Monthly scorecard standards</source>
        <translation>月度考核标准</translation>
    </message>
    <message>
        <source>Renewal premium collected at least</source>
        <translation>续收达成率不低于</translation>
    </message>
    <message>
        <source>13-month persistency at least</source>
        <translation>13个月继续率不低于</translation>
    </message>
    <message>
        <source>Tasks done on time at least</source>
        <translation>任务按时完成率不低于</translation>
    </message>
    <message>
        <source>First contact on time at least</source>
        <translation>首次建联及时率不低于</translation>
    </message>
    <message>
        <source>Service equity</source>
        <translation>服务公平</translation>
    </message>
    <message>
        <source>no flag (fixed)</source>
        <translation>无标记（固定）</translation>
    </message>
</context>
<context>
    <name>ChangeHistory</name>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Undo %1</source>
        <translation>撤销 %1(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo %1</source>
        <translation>重做 %1(&amp;R)</translation>
    </message>
    <message>
        <source>Undoing %1…</source>
        <translation>正在撤销 %1…</translation>
    </message>
    <message>
        <source>Applying %1 again…</source>
        <translation>正在再次执行 %1…</translation>
    </message>
    <message>
        <source>Undone: %1. Customers, grids and open tasks are back; %2.</source>
        <translation>已撤销：%1。客户、网格和未完成任务均已恢复原状；%2。</translation>
    </message>
    <message>
        <source>Applied again: %1.</source>
        <translation>已再次执行：%1。</translation>
    </message>
    <message>
        <source>%1 cannot be undone, so it was taken off the undo list.</source>
        <translation>“%1”无法撤销，已从撤销列表中移除。</translation>
    </message>
    <message>
        <source>%1 cannot be applied again, so it was taken off the redo list.</source>
        <translation>“%1”无法再次执行，已从重做列表中移除。</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
</context>
<context>
    <name>ChartsPage</name>
    <message>
        <source>Persistency by due month</source>
        <translation>保单继续率（按应缴月份）</translation>
    </message>
    <message>
        <source>4-sell funnel</source>
        <translation>4-sell 渐进式经营漏斗</translation>
    </message>
    <message>
        <source>Tasks completed per week</source>
        <translation>每周完成任务数</translation>
    </message>
    <message>
        <source>Service equity</source>
        <translation>服务公平</translation>
    </message>
    <message>
        <source>Persistency by days to first contact</source>
        <translation>按首次联系天数的继续率</translation>
    </message>
    <message>
        <source>0–7 days</source>
        <translation>0–7 天</translation>
    </message>
    <message>
        <source>8–30 days</source>
        <translation>8–30 天</translation>
    </message>
    <message>
        <source>31–90 days</source>
        <translation>31–90 天</translation>
    </message>
    <message>
        <source>over 90 days</source>
        <translation>90 天以上</translation>
    </message>
    <message>
        <source>never contacted</source>
        <translation>从未联系</translation>
    </message>
    <message>
        <source>Whole branch</source>
        <translation>全机构</translation>
    </message>
    <message>
        <source>All my teams</source>
        <translation>我的全部团队</translation>
    </message>
    <message>
        <source>Compare teams</source>
        <translation>按团队对比</translation>
    </message>
    <message>
        <source>13-month</source>
        <translation>13个月</translation>
    </message>
    <message>
        <source>25-month</source>
        <translation>25个月</translation>
    </message>
    <message>
        <source>95% range</source>
        <translation>95% 区间</translation>
    </message>
    <message>
        <source>Shade around each month the range its rate could well have had by chance, given how few policies it rests on (a 95% Wilson interval)</source>
        <translation>在每个月的比率周围画出阴影：按其所依据的保单数，该比率因偶然因素可能落入的范围（95% Wilson 区间）</translation>
    </message>
    <message>
        <source>Save chart as PNG…</source>
        <translation>图表另存为 PNG…</translation>
    </message>
    <message>
        <source>Only the persistency trend compares teams</source>
        <translation>仅继续率趋势图可按团队对比</translation>
    </message>
    <message>
        <source>No specialist on the due date</source>
        <translation>（应缴日无专员服务）</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>These customers entered the pool %1–%2 days ago: the later steps take months</source>
        <translation>该批客户入池仅 %1–%2 天，后续阶段通常需要数月</translation>
    </message>
    <message>
        <source>Charts</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>25-month persistency by due month</source>
        <translation>25个月保单继续率（按应缴月份）</translation>
    </message>
    <message>
        <source>13-month persistency by due month</source>
        <translation>13个月保单继续率（按应缴月份）</translation>
    </message>
    <message>
        <source>(a year earlier)</source>
        <translation>（上年同期）</translation>
    </message>
    <message>
        <source>pilot starts</source>
        <translation>试点开始</translation>
    </message>
    <message>
        <source>grace period running: only the policies past it count</source>
        <translation>宽限期未满：仅计已过宽限期的保单</translation>
    </message>
    <message>
        <source>fewer than %1 policies: too few to judge</source>
        <translation>不足 %1 件保单：样本过少，仅供参考</translation>
    </message>
    <message>
        <source>95% range (Wilson)</source>
        <translation>95% 区间（Wilson）</translation>
    </message>
    <message>
        <source>%1 customers</source>
        <translation>%1 位客户</translation>
    </message>
    <message>
        <source>Share of the cohort that reached the step</source>
        <translation>达到该阶段的客户占比</translation>
    </message>
    <message>
        <source>%1 customers, %2 of the cohort</source>
        <translation>%1 人，占该批客户 %2</translation>
    </message>
    <message>
        <source>%1 of those at the step before</source>
        <translation>上一阶段客户中 %1 进入本阶段</translation>
    </message>
    <message>
        <source>median %1 days after pool entry</source>
        <translation>入池后中位用时 %1 天</translation>
    </message>
    <message>
        <source>tasks</source>
        <translation>任务数</translation>
    </message>
    <message>
        <source>%1 days so far</source>
        <translation>本周已过 %1 天</translation>
    </message>
    <message>
        <source>completion of service and renewal tasks, last 365 days</source>
        <translation>保全与续收任务完成率（最近 365 天）</translation>
    </message>
    <message>
        <source>customers never cross- or up-sold</source>
        <translation>未综拓或加保客户</translation>
    </message>
    <message>
        <source>customers who reached cross-sell or up-sell</source>
        <translation>已综拓或加保客户</translation>
    </message>
    <message>
        <source>buyers served more than %1 points better</source>
        <translation>已综拓或加保客户的完成率高出 %1 个百分点以上</translation>
    </message>
    <message>
        <source>completion rate (over each bar: the tasks it counts)</source>
        <translation>完成率（柱顶数字为计入的任务数）</translation>
    </message>
    <message>
        <source>13-month persistency by days from pool entry to first contact</source>
        <translation>13个月继续率（按入池至首次联系的天数）</translation>
    </message>
    <message>
        <source>25-month persistency by days from pool entry to first contact</source>
        <translation>25个月继续率（按入池至首次联系的天数）</translation>
    </message>
    <message>
        <source>Policies due %1, premium basis</source>
        <translation>应缴期 %1，保费口径</translation>
    </message>
    <message>
        <source>%1 policies still in their grace period are not counted yet</source>
        <translation>%1 件保单仍在宽限期内，暂不计入</translation>
    </message>
    <message>
        <source>%1 policies</source>
        <translation>%1 件保单</translation>
    </message>
    <message>
        <source>persistency</source>
        <translation>继续率</translation>
    </message>
    <message>
        <source>few: not to judge</source>
        <translation>少量，仅供参考</translation>
    </message>
    <message>
        <source>Save chart</source>
        <translation>保存图表</translation>
    </message>
</context>
<context>
    <name>CompareDialog</name>
    <message>
        <source>Compare %1 and %2</source>
        <translation>对比 %1 与 %2</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>%1 grid whose owner differs</source>
        <translation>负责人不同的网格 %1 个</translation>
    </message>
    <message>
        <source>%1 grids whose owner differs</source>
        <translation>负责人不同的网格 %1 个</translation>
    </message>
    <message>
        <source>owner differs</source>
        <translation>负责人不同</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>ExportMeetingDialog</name>
    <message>
        <source>Export meeting workbook</source>
        <translation>导出例会工作簿</translation>
    </message>
    <message>
        <source>A month (2026-08), a quarter (2026-Q3) or a year (2026)</source>
        <translation>一个月（2026-08）、一个季度（2026-Q3）或一年（2026）</translation>
    </message>
    <message>
        <source>Whole branch: %1</source>
        <translation>全机构：%1</translation>
    </message>
    <message>
        <source>Team: %1</source>
        <translation>团队：%1</translation>
    </message>
    <message>
        <source>Specialist: %1</source>
        <translation>专员：%1</translation>
    </message>
    <message>
        <source>Review period</source>
        <translation>检视期</translation>
    </message>
    <message>
        <source>Scope</source>
        <translation>范围</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Customers&apos; phone and ID numbers are shown in full only to supervisors.</source>
        <translation>客户手机号和证件号码仅对主管完整显示，请妥善保管导出的文件。</translation>
    </message>
    <message>
        <source>Customers&apos; phone and ID numbers are masked in the workbook.</source>
        <translation>工作簿中客户的手机号和证件号码已脱敏。</translation>
    </message>
    <message>
        <source>Save meeting workbook</source>
        <translation>保存例会工作簿</translation>
    </message>
    <message>
        <source>Write the period as a month (2026-08), a quarter (2026-Q3) or a year.</source>
        <translation>检视期请写成月份（2026-08）、季度（2026-Q3）或年份。</translation>
    </message>
    <message>
        <source>Choose a file in an existing folder.</source>
        <translation>请选择已有文件夹中的文件。</translation>
    </message>
</context>
<context>
    <name>ExportParts</name>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
</context>
<context>
    <name>FirstRunDialog</name>
    <message>
        <source>Welcome to GridDesk</source>
        <translation>欢迎使用 GridDesk</translation>
    </message>
    <message>
        <source>How do you want to begin?</source>
        <translation>您想如何开始？</translation>
    </message>
    <message>
        <source>Open the demo branch</source>
        <translation>打开演示机构</translation>
    </message>
    <message>
        <source>Connect to the branch&apos;s shared database</source>
        <translation>连接机构的共享数据库</translation>
    </message>
    <message>
        <source>Create an empty branch and import its first extracts</source>
        <translation>新建空机构并导入首批数据</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>A demo branch with made-up specialists, customers and policies, to try GridDesk out. It is a demo: nothing in it is real. It is built on this computer in a minute or so. Demo users: senior, supervisor, analyst; password demo1234.</source>
        <translation>一个演示机构，专员、客户和保单都是虚构的，用来试用 GridDesk。这只是演示：其中没有任何真实数据。它在本机生成，大约需要一分钟。演示用户：senior、supervisor、analyst，密码 demo1234。</translation>
    </message>
    <message>
        <source>The address your branch&apos;s IT gave you. Without a user name in it, everyone signs in as themselves. GridDesk connects to it before saving it.</source>
        <translation>机构信息技术人员提供的地址。地址中不含用户名时，每个人以自己的身份登录。GridDesk 会先连接测试，成功后才保存。</translation>
    </message>
    <message>
        <source>Database URL</source>
        <translation>数据库地址</translation>
    </message>
    <message>
        <source>Branch code</source>
        <translation>机构代码</translation>
    </message>
    <message>
        <source>Branch name</source>
        <translation>机构名称</translation>
    </message>
    <message>
        <source>The first senior supervisor, who adds the other users:</source>
        <translation>第一位资深主管（由其添加其他用户）：</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Password again</source>
        <translation>再次输入密码</translation>
    </message>
    <message>
        <source>The branch starts empty on this computer: import its teams, grids, specialists, agents, customers, policies and dues with File ▸ Import extract…</source>
        <translation>机构在本机从空白开始：请通过“文件 ▸ 导入数据…”导入团队、网格、专员、代理人、客户、保单和应收保费。</translation>
    </message>
    <message>
        <source>Enter the shared database&apos;s URL.</source>
        <translation>请输入共享数据库的地址。</translation>
    </message>
    <message>
        <source>GridDesk could not connect to this database; nothing was saved.</source>
        <translation>GridDesk 无法连接该数据库，未保存任何设置。</translation>
    </message>
    <message>
        <source>Enter the branch&apos;s code and name.</source>
        <translation>请输入机构代码和名称。</translation>
    </message>
    <message>
        <source>A branch code has 1 to 32 characters and no spaces.</source>
        <translation>机构代码为 1 至 32 个字符，不含空格。</translation>
    </message>
    <message>
        <source>The two passwords differ.</source>
        <translation>两次输入的密码不一致。</translation>
    </message>
</context>
<context>
    <name>HandoffsView</name>
    <message>
        <source>SMS not sent</source>
        <translation>短信未发送</translation>
    </message>
    <message>
        <source>no first contact</source>
        <translation>未首次联系</translation>
    </message>
    <message>
        <source>no first service</source>
        <translation>未首次服务</translation>
    </message>
    <message>
        <source>Customer</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>Specialist</source>
        <translation>专员</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Entered
the pool</source>
        <translation>入池日期</translation>
    </message>
    <message>
        <source>Days since
pool entry</source>
        <translation>入池
天数</translation>
    </message>
    <message>
        <source>Days past
the target</source>
        <translation>超出目标
天数</translation>
    </message>
    <message>
        <source>Days past the target of the first milestone missed</source>
        <translation>第一个未达成事项超出其目标的天数</translation>
    </message>
    <message>
        <source>Late on</source>
        <translation>超时事项</translation>
    </message>
</context>
<context>
    <name>Help</name>
    <message>
        <source>the grid map</source>
        <translation>网格地图</translation>
    </message>
    <message>
        <source>Chinese text, where the computer has no Chinese font</source>
        <translation>在没有中文字体的电脑上显示中文</translation>
    </message>
    <message>
        <source>the windows and the embedded browser</source>
        <translation>窗口界面和内嵌浏览器</translation>
    </message>
    <message>
        <source>%1 is not an offline copy: open it with File ▸ Settings.</source>
        <translation>%1 不是离线副本：请在“文件 ▸ 设置”中打开它。</translation>
    </message>
</context>
<context>
    <name>HistoryDialog</name>
    <message>
        <source>hand-over of %1</source>
        <translation>%1 的交接</translation>
    </message>
    <message>
        <source>intake of agent %1</source>
        <translation>代理人 %1 的客户入池</translation>
    </message>
    <message>
        <source>tasks reassigned</source>
        <translation>任务改派</translation>
    </message>
    <message>
        <source>history imported (%1 changes)</source>
        <translation>导入历史分配（%1 条变更）</translation>
    </message>
    <message>
        <source>rebalance</source>
        <translation>均衡调整</translation>
    </message>
    <message>
        <source>undone by %1</source>
        <translation>已由 %1 撤销</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Recorded</source>
        <translation>记录时间</translation>
    </message>
    <message>
        <source>Effective</source>
        <translation>生效日期</translation>
    </message>
    <message>
        <source>The day the change holds from</source>
        <translation>变更开始生效的日期</translation>
    </message>
    <message>
        <source>By</source>
        <translation>操作人</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>变更</translation>
    </message>
    <message>
        <source>Grids</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Customers</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>Open tasks</source>
        <translation>未完成任务</translation>
    </message>
    <message>
        <source>SMS</source>
        <translation>短信</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>History of changes</source>
        <translation>变更历史</translation>
    </message>
    <message>
        <source>Every intake, rebalance and hand-over on this database, by whoever made it. Undo puts its customers, grids and open tasks back, if nothing of it changed hands since; an intake&apos;s customers leave the pool again.</source>
        <translation>本数据库中的每一次入池、均衡调整和交接（无论由谁操作）。撤销会把其中的客户、网格和未完成任务恢复原状，前提是此后没有再被调整过；撤销入池会让这些客户重新离开客户池。</translation>
    </message>
    <message>
        <source>Undo this change…</source>
        <translation>撤销此变更…</translation>
    </message>
    <message>
        <source>Undoing…</source>
        <translation>正在撤销…</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Change %1 undone: %2 and %3 are back; %4.</source>
        <translation>已撤销变更 %1：%2、%3已恢复原状；%4。</translation>
    </message>
</context>
<context>
    <name>ImportExtract</name>
    <message>
        <source>Teams</source>
        <translation>团队</translation>
    </message>
    <message>
        <source>Grids (GeoJSON)</source>
        <translation>网格（GeoJSON）</translation>
    </message>
    <message>
        <source>Specialists</source>
        <translation>网格专员</translation>
    </message>
    <message>
        <source>Departed agents</source>
        <translation>离职代理人</translation>
    </message>
    <message>
        <source>Customers</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>Policies</source>
        <translation>保单</translation>
    </message>
    <message>
        <source>Premium dues</source>
        <translation>应收保费</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Assignment history</source>
        <translation>分配历史</translation>
    </message>
    <message>
        <source>%1: %2 rows imported (%3 new, %4 updated).</source>
        <translation>%1：已导入 %2 行（新增 %3，更新 %4）。</translation>
    </message>
    <message>
        <source>Import extract</source>
        <translation>导入数据</translation>
    </message>
    <message>
        <source>Importing…</source>
        <translation>正在导入…</translation>
    </message>
</context>
<context>
    <name>ImportExtractDialog</name>
    <message>
        <source>Import extract</source>
        <translation>导入数据</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>CSV (UTF-8 or GBK) or Excel, headers in English or Chinese. One bad row rejects the whole file, naming the row and column; importing again updates.</source>
        <translation>CSV（UTF-8 或 GBK）或 Excel 文件，表头可用英文或中文。只要有一行有误，整个文件都不导入，并指出行号和列名；再次导入会更新已有数据。</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Extracts (*.csv *.xlsx *.geojson *.json)</source>
        <translation>数据文件 (*.csv *.xlsx *.geojson *.json)</translation>
    </message>
</context>
<context>
    <name>IntakePage</name>
    <message>
        <source>Agent</source>
        <translation>代理人</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Left on</source>
        <translation>离职日期</translation>
    </message>
    <message>
        <source>Customers</source>
        <translation>客户数</translation>
    </message>
    <message>
        <source>In the pool</source>
        <translation>已入池</translation>
    </message>
    <message>
        <source>Customers of the agent taken into the pool already</source>
        <translation>该代理人已入池的客户</translation>
    </message>
    <message>
        <source>No policy in force</source>
        <translation>无有效保单</translation>
    </message>
    <message>
        <source>Customers outside the pool with no policy in force: intake leaves them out</source>
        <translation>未入池且没有有效保单的客户：入池时不纳入</translation>
    </message>
    <message>
        <source>Waiting for intake</source>
        <translation>待入池</translation>
    </message>
    <message>
        <source>Customers with a policy in force not yet in the pool: the next intake takes them in</source>
        <translation>有有效保单但尚未入池的客户：下次入池时纳入</translation>
    </message>
    <message>
        <source>Customer no.</source>
        <translation>客户号</translation>
    </message>
    <message>
        <source>Entered pool</source>
        <translation>入池日期</translation>
    </message>
    <message>
        <source>Days waiting</source>
        <translation>等待天数</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Suggested grids</source>
        <translation>建议网格</translation>
    </message>
    <message>
        <source>Departed agents</source>
        <translation>离职代理人</translation>
    </message>
    <message>
        <source>Run intake for the selected agent</source>
        <translation>为所选代理人执行入池</translation>
    </message>
    <message>
        <source>Addresses matching no grid</source>
        <translation>未匹配网格的地址</translation>
    </message>
    <message>
        <source>Remember: addresses containing</source>
        <translation>记住：地址包含</translation>
    </message>
    <message>
        <source>part of the address, e.g. a community name</source>
        <translation>地址片段，如社区名称</translation>
    </message>
    <message>
        <source>go to this grid</source>
        <translation>的划入此网格</translation>
    </message>
    <message>
        <source>Put in grid</source>
        <translation>划入网格</translation>
    </message>
    <message>
        <source>Grid (or click it on the map)</source>
        <translation>网格（或在地图上点选）</translation>
    </message>
    <message>
        <source>Outside coverage…</source>
        <translation>不在覆盖范围…</translation>
    </message>
    <message>
        <source>Take the chosen customers out of this queue: their address is outside the branch&apos;s coverage (a district with no grids, another city, an address to check)</source>
        <translation>把选中的客户移出此队列：其地址不在本机构的覆盖范围（无网格的区县、外地地址、需核实的地址）</translation>
    </message>
    <message>
        <source>Waiting for a grid</source>
        <translation>待指定网格</translation>
    </message>
    <message>
        <source>Outside coverage</source>
        <translation>不在覆盖范围</translation>
    </message>
    <message>
        <source>Export SMS outbox…</source>
        <translation>导出短信发件箱…</translation>
    </message>
    <message>
        <source>Write the queued messages as the CSV file the SMS gateway takes</source>
        <translation>将待发送短信导出为短信网关所需的 CSV 文件</translation>
    </message>
    <message>
        <source>Import gateway results…</source>
        <translation>导入网关回执…</translation>
    </message>
    <message>
        <source>Read the gateway&apos;s result file and mark messages sent or failed</source>
        <translation>读取短信网关的回执文件，将短信标记为已发送或发送失败</translation>
    </message>
    <message>
        <source>SMS outbox</source>
        <translation>短信发件箱</translation>
    </message>
    <message>
        <source>An offline copy is read-only: intakes run on the branch&apos;s database.</source>
        <translation>离线副本为只读：入池需在机构数据库上进行。</translation>
    </message>
    <message>
        <source>a senior supervisor</source>
        <translation>资深主管</translation>
    </message>
    <message>
        <source>Only a senior supervisor runs intakes, files unmatched addresses (or marks them outside coverage) and hands the SMS outbox to the gateway: ask %1. You see them here as they stand.</source>
        <translation>只有资深主管可以执行入池、为未匹配地址指定网格（或标记为不在覆盖范围）以及向短信网关交付发件箱：请联系 %1。此处仅供查看。</translation>
    </message>
    <message>
        <source>Intakes, the addresses matching no grid (and those outside coverage) and the SMS outbox are the branch&apos;s, run by a senior supervisor (%1); customers reach your team&apos;s queues once they have a grid and a specialist.</source>
        <translation>入池、未匹配网格的地址（及不在覆盖范围的地址）和短信发件箱属于全机构，由资深主管（%1）处理；客户有了网格和专员后会进入您团队的队列。</translation>
    </message>
    <message>
        <source>Intake</source>
        <translation>入池</translation>
    </message>
    <message>
        <source>%1 messages queued (%2 of them wait for a phone number), %5 with the gateway, %3 sent, %4 failed</source>
        <translation>待发送短信 %1 条（其中 %2 条缺少手机号），已交网关 %5 条，已发送 %3 条，发送失败 %4 条</translation>
    </message>
    <message>
        <source>%1 messages queued, %5 with the gateway, %3 sent, %4 failed</source>
        <translation>待发送短信 %1 条，已交网关 %5 条，已发送 %3 条，发送失败 %4 条</translation>
    </message>
    <message>
        <source>%1 customers wait for a grid</source>
        <translation>%1 位客户待指定网格</translation>
    </message>
    <message>
        <source>Waiting for a grid (%1)</source>
        <translation>待指定网格（%1）</translation>
    </message>
    <message>
        <source>Outside coverage (%1)</source>
        <translation>不在覆盖范围（%1）</translation>
    </message>
    <message>
        <source>Take the customers of %2 (%3) into the pool? Waiting: %1.
Each is matched to a grid by their address, and so to its specialist, and gets an agent-change SMS in the outbox (SMS: %1 queued; one without a phone number waits for it). Edit ▸ History of changes can undo it while none of them changed hands.</source>
        <translation>将 %2（%3）的客户纳入客户池？待入池：%1 位。
每位客户按地址匹配到网格，由该网格专员服务，并在发件箱中收到一条代理人变更短信（短信：新排队 %1 条；缺少手机号的待补全后发送）。在客户未再被调整前，可通过 编辑 ▸ 变更历史 撤销。</translation>
    </message>
    <message>
        <source>Customers of the agent with no policy in force stay out of the pool: %1.</source>
        <translation>该代理人名下无有效保单、不入池的客户：%1 位。</translation>
    </message>
    <message>
        <source>Run intake</source>
        <translation>执行入池</translation>
    </message>
    <message>
        <source>Intake of %1</source>
        <translation>%1 的客户入池</translation>
    </message>
    <message>
        <source>%1 customers entered the pool (%2 were in it already).
Matched by coordinates %3, by address %4, by rule %5; %6 wait for a grid.
%7; %8 tasks created.</source>
        <translation>%1 位客户进入客户池（%2 位此前已在池中）。
按坐标匹配 %3，按地址匹配 %4，按规则匹配 %5；%6 位待人工指定网格。
%7；新建任务 %8 个。</translation>
    </message>
    <message>
        <source>SMS waiting for a phone number: %1.</source>
        <translation>待补录手机号的短信：%1 条。</translation>
    </message>
    <message>
        <source>In grids nobody covers, so without a specialist yet: %1. See the coverage gaps on the map, or give those grids an owner.</source>
        <translation>所在网格无人负责、暂无网格专员的客户：%1 位。请在地图的覆盖缺口中查看，或为这些网格指定负责人。</translation>
    </message>
    <message>
        <source>— choose a grid —</source>
        <translation>— 请选择网格 —</translation>
    </message>
    <message>
        <source>This rule cannot be remembered: %1</source>
        <translation>无法记住此规则：%1</translation>
    </message>
    <message>
        <source>no grid</source>
        <translation>无网格</translation>
    </message>
    <message>
        <source>Addresses containing &apos;%1&apos; will go to grid %2: %3 customers in the pool, %4 in the branch (now in: %5). Remember this rule?</source>
        <translation>地址包含“%1”的客户将归入网格 %2：客户池中 %3 位，全机构 %4 位（目前所在：%5）。记住此规则？</translation>
    </message>
    <message>
        <source>Export SMS outbox</source>
        <translation>导出短信发件箱</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Exporting the SMS outbox…</source>
        <translation>正在导出短信发件箱…</translation>
    </message>
    <message>
        <source>No queued messages with a phone number: %1 holds only the header.</source>
        <translation>没有带手机号的待发送短信：%1 中只有表头。</translation>
    </message>
    <message>
        <source>%2 messages written to %1.
They stay queued until the gateway&apos;s result file is imported.</source>
        <translation>已将 %2 条短信写入 %1。
在导入短信网关的回执文件之前，这些短信仍为待发送状态。</translation>
    </message>
    <message>
        <source>Import gateway results</source>
        <translation>导入网关回执</translation>
    </message>
    <message>
        <source>CSV files (*.csv);;All files (*)</source>
        <translation>CSV 文件 (*.csv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>The file was not imported; nothing changed.</source>
        <translation>文件未导入，数据没有任何改动。</translation>
    </message>
    <message>
        <source>Importing gateway results…</source>
        <translation>正在导入网关回执…</translation>
    </message>
    <message>
        <source>%1: %2 rows read, %3 messages marked sent, %4 failed.</source>
        <translation>%1：读取 %2 行，%3 条标记为已发送，%4 条标记为发送失败。</translation>
    </message>
    <message>
        <source>%1 message ids are not in this database and were left alone: %2</source>
        <translation>%1 个消息编号不在本数据库中，未做处理：%2</translation>
    </message>
    <message>
        <source>A district of the city with no grids</source>
        <translation>本市无网格的区县</translation>
    </message>
    <message>
        <source>An address outside the city</source>
        <translation>外地地址</translation>
    </message>
    <message>
        <source>Address incomplete, to be checked</source>
        <translation>地址不全需核实</translation>
    </message>
    <message>
        <source>Other (say why in the note)</source>
        <translation>其他（请在说明中写明原因）</translation>
    </message>
    <message>
        <source>District</source>
        <translation>区县</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Marked by</source>
        <translation>标记人</translation>
    </message>
    <message>
        <source>Marked at</source>
        <translation>标记时间</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>— choose a reason —</source>
        <translation>— 请选择原因 —</translation>
    </message>
    <message>
        <source>e.g. 郫都区 has no grids yet</source>
        <translation>例如：郫都区尚未划分网格</translation>
    </message>
    <message>
        <source>Take %1 customers out of the queue of addresses matching no grid, into the list of addresses outside coverage? They can be put back in the queue; a grid drawn where they live takes them by itself at the next rematch or grid import.</source>
        <translation>把 %1 位客户移出未匹配网格的地址队列，放入“不在覆盖范围”清单？之后可以放回队列；若日后在其所在地划定网格，下次重新匹配或导入网格时会自动归入。</translation>
    </message>
    <message>
        <source>Mark outside coverage</source>
        <translation>标记为不在覆盖范围</translation>
    </message>
    <message>
        <source>Addresses outside coverage</source>
        <translation>不在覆盖范围的地址</translation>
    </message>
    <message>
        <source>Put back in queue</source>
        <translation>放回待匹配队列</translation>
    </message>
    <message>
        <source>Put the chosen customers back in the queue of addresses matching no grid</source>
        <translation>把选中的客户放回未匹配网格的地址队列</translation>
    </message>
    <message>
        <source>%1 customers whose address is outside coverage</source>
        <translation>%1 位客户的地址不在覆盖范围</translation>
    </message>
</context>
<context>
    <name>LateHandoffsView</name>
    <message>
        <source>Late on any milestone</source>
        <translation>任一事项超时</translation>
    </message>
    <message>
        <source>Entered the pool at any time</source>
        <translation>入池时间不限</translation>
    </message>
    <message>
        <source>Entered in the last %1 days</source>
        <translation>最近 %1 天入池</translation>
    </message>
    <message>
        <source>Hand-offs late</source>
        <translation>交接超时</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Targets from pool entry: SMS %1 d · first contact %2 d · first service %3 d</source>
        <translation>目标（自入池起）：短信 %1 天 · 首次联系 %2 天 · 首次服务 %3 天</translation>
    </message>
    <message>
        <source>%1 customers late on a hand-off, oldest pool entry first</source>
        <translation>%1 位客户交接超时，按入池时间由早到晚排列</translation>
    </message>
</context>
<context>
    <name>LeavingDialog</name>
    <message>
        <source>Specialist leaves: %1 (%2)</source>
        <translation>专员离职：%1（%2）</translation>
    </message>
    <message>
        <source>leaves the company</source>
        <translation>离职</translation>
    </message>
    <message>
        <source>goes on leave</source>
        <translation>休假</translation>
    </message>
    <message>
        <source>Recorded with the hand-over: from then on rebalancing and address matching pass this specialist by. Undo puts the status back.</source>
        <translation>随交接一并记录：此后均衡调整和地址匹配不再分配给该专员。撤销可恢复原状态。</translation>
    </message>
    <message>
        <source>Whole branch (also other teams)</source>
        <translation>全机构（包括其他团队）</translation>
    </message>
    <message>
        <source>Leaving on</source>
        <translation>离职日期</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Grids</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Customers</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>Open tasks</source>
        <translation>未完成任务</translation>
    </message>
    <message>
        <source>What they hold</source>
        <translation>名下的工作</translation>
    </message>
    <message>
        <source>Handover</source>
        <translation>交接方案</translation>
    </message>
    <message>
        <source>Workloads</source>
        <translation>工作量</translation>
    </message>
    <message>
        <source>The unlocked customers left behind (in locked grids or without a grid) go to this colleague, with their open tasks. Locked customers stay.</source>
        <translation>留下的未锁定客户（位于锁定网格中或没有网格）连同其未完成任务交给这位同事；锁定客户保持不变。</translation>
    </message>
    <message>
        <source>Add to the plan</source>
        <translation>加入方案</translation>
    </message>
    <message>
        <source>Give them to</source>
        <translation>交给</translation>
    </message>
    <message>
        <source>Proposed new owners</source>
        <translation>建议的接手专员</translation>
    </message>
    <message>
        <source>Propose again</source>
        <translation>重新生成方案</translation>
    </message>
    <message>
        <source>Apply handover…</source>
        <translation>执行交接…</translation>
    </message>
    <message>
        <source>An offline snapshot is read-only</source>
        <translation>离线副本为只读</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>%1, %2 and %3 (%4 due before the leaving date); %5 of premium falls due in the 90 days from the leaving date.</source>
        <translation>%1、%2、%3（其中 %4 个在离职日前到期）；离职日起 90 天内应收保费 %5。</translation>
    </message>
    <message>
        <source>Grids (%1)</source>
        <translation>网格（%1）</translation>
    </message>
    <message>
        <source>Customers (%1)</source>
        <translation>客户（%1）</translation>
    </message>
    <message>
        <source>Open tasks (%1)</source>
        <translation>未完成任务（%1）</translation>
    </message>
    <message>
        <source>Looking for new owners…</source>
        <translation>正在寻找接手专员…</translation>
    </message>
    <message>
        <source>To %3: %1 and %2; %4 in all.</source>
        <translation>%1及%2交给 %3；共涉及 %4。</translation>
    </message>
    <message>
        <source>To %3: %1; %4 in all.</source>
        <translation>%1交给 %3；共涉及 %4。</translation>
    </message>
    <message>
        <source>%1 colleague</source>
        <translation>%1 位同事</translation>
    </message>
    <message>
        <source>%1 colleagues</source>
        <translation>%1 位同事</translation>
    </message>
    <message>
        <source>Above capacity afterwards: %1.</source>
        <translation>调整后超出服务上限：%1。</translation>
    </message>
    <message>
        <source>%1 further customer</source>
        <translation>另外 %1 位客户</translation>
    </message>
    <message>
        <source>%1 further customers</source>
        <translation>另外 %1 位客户</translation>
    </message>
    <message>
        <source>Hand over %1&apos;s work in one transaction?

%2 and %3 go to their new owners: %4; %5. Open tasks go with their customers.</source>
        <translation>以一个事务交接 %1 的工作？

%2及%3将交给新的专员：%4；%5。未完成任务随客户转移。</translation>
    </message>
    <message>
        <source>%1 customer gets a new specialist</source>
        <translation>%1 位客户将有新的专员</translation>
    </message>
    <message>
        <source>%1 customers get a new specialist</source>
        <translation>%1 位客户将有新的专员</translation>
    </message>
    <message>
        <source>Edit ▸ Undo (Ctrl+Z) in the main window puts everything back.</source>
        <translation>在主窗口中选择 编辑 ▸ 撤销（Ctrl+Z）可全部恢复。</translation>
    </message>
    <message>
        <source>Apply handover</source>
        <translation>执行交接</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>执行</translation>
    </message>
    <message>
        <source>Handing over…</source>
        <translation>正在交接…</translation>
    </message>
    <message>
        <source>Handed over: %1, %2 and %3 moved; %4. Edit ▸ Undo (Ctrl+Z) in the main window puts everything back.</source>
        <translation>已交接：%1、%2和%3；%4。在主窗口中选择 编辑 ▸ 撤销（Ctrl+Z）可全部恢复。</translation>
    </message>
    <message>
        <source>handover of %1</source>
        <translation>%1 的离职交接</translation>
    </message>
    <message>
        <source>Nothing was handed over; nothing was written.</source>
        <translation>未进行交接，数据没有任何改动。</translation>
    </message>
    <message>
        <source>locked grids %1 (unlock or reassign them by hand)</source>
        <translation>锁定的网格 %1（请解锁或人工分配）</translation>
    </message>
    <message>
        <source>1 customer in those grids</source>
        <translation>这些网格中的 1 位客户</translation>
    </message>
    <message>
        <source>%1 customers in those grids</source>
        <translation>这些网格中的 %1 位客户</translation>
    </message>
    <message>
        <source>1 locked customer</source>
        <translation>1 位锁定客户</translation>
    </message>
    <message>
        <source>%1 locked customers</source>
        <translation>%1 位锁定客户</translation>
    </message>
    <message>
        <source>1 customer without a grid</source>
        <translation>1 位无网格客户</translation>
    </message>
    <message>
        <source>%1 customers without a grid</source>
        <translation>%1 位无网格客户</translation>
    </message>
    <message>
        <source>1 open task of a customer who stays</source>
        <translation>留下客户的 1 个未完成任务</translation>
    </message>
    <message>
        <source>%1 open tasks of customers who stay</source>
        <translation>留下客户的 %1 个未完成任务</translation>
    </message>
    <message>
        <source>Not in the plan, to hand over by hand: %1.</source>
        <translation>以下内容不在方案中，需人工交接：%1。</translation>
    </message>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
    <message>
        <source>1 customer left behind is now in the plan, going to %2.</source>
        <translation>留下的 1 位客户已加入方案，由%2接手。</translation>
    </message>
    <message>
        <source>%1 customers left behind are now in the plan, going to %2.</source>
        <translation>留下的 %1 位客户已加入方案，由%2接手。</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Grid name</source>
        <translation>网格名称</translation>
    </message>
    <message>
        <source>District</source>
        <translation>区县</translation>
    </message>
    <message>
        <source>Customers in the grid</source>
        <translation>网格内客户数</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>锁定</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>Customer no.</source>
        <translation>客户号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Premium due in 90 days</source>
        <translation>90 天内应收保费</translation>
    </message>
    <message>
        <source>Task no.</source>
        <translation>任务编号</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>任务类型</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Policy no.</source>
        <translation>保单号</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>截止日期</translation>
    </message>
    <message>
        <source>Due before the leaving date</source>
        <translation>在离职日前到期</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Local database on this computer</source>
        <translation>本机数据库</translation>
    </message>
    <message>
        <source>Shared database %1 on %2</source>
        <translation>共享数据库 %1（%2）</translation>
    </message>
    <message>
        <source>GridDesk</source>
        <translation>GridDesk 社区网格工作台</translation>
    </message>
    <message>
        <source>Updating persistency figures after the last change… The figures below do not include it yet.</source>
        <translation>正在根据刚才的变更更新继续率数字……下方的数字暂未包含这次变更。</translation>
    </message>
    <message>
        <source>Scheduled plans</source>
        <translation>预定方案</translation>
    </message>
    <message>
        <source>The figures could not be brought up to date (%1); the workbook asked for meanwhile was not written. Export it again.</source>
        <translation>指标未能更新（%1）；更新期间请求的工作簿未生成，请重新导出。</translation>
    </message>
    <message>
        <source>Offline snapshot (read-only) of %1: %2</source>
        <translation>离线副本（只读），取自 %1：%2</translation>
    </message>
    <message>
        <source>As of %1</source>
        <translation>数据截至 %1</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Branch settings…</source>
        <translation>机构设置(&amp;B)…</translation>
    </message>
    <message>
        <source>Open o&amp;ffline copy…</source>
        <translation>打开离线副本(&amp;F)…</translation>
    </message>
    <message>
        <source>Take offline…</source>
        <translation>生成离线副本…</translation>
    </message>
    <message>
        <source>&amp;Import extract…</source>
        <translation>导入数据(&amp;I)…</translation>
    </message>
    <message>
        <source>Export meeting workbook…</source>
        <translation>导出例会工作簿…</translation>
    </message>
    <message>
        <source>Reset window layout</source>
        <translation>重置窗口布局</translation>
    </message>
    <message>
        <source>&amp;Users…</source>
        <translation>用户管理(&amp;U)…</translation>
    </message>
    <message>
        <source>Sign &amp;out</source>
        <translation>退出登录(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;History of changes…</source>
        <translation>变更历史(&amp;H)…</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;User guide</source>
        <translation>用户指南(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;About GridDesk</source>
        <translation>关于 GridDesk(&amp;A)</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>The new language or database is used from the next start. Restart GridDesk now? You will sign in again.</source>
        <translation>新的语言或数据库设置在下次启动时生效。现在重启 GridDesk 吗？重启后需重新登录。</translation>
    </message>
    <message>
        <source>Restart now</source>
        <translation>立即重启</translation>
    </message>
    <message>
        <source>Restart</source>
        <translation>重启</translation>
    </message>
    <message>
        <source>GridDesk could not start again (%1). Start it yourself.</source>
        <translation>GridDesk 无法自动重新启动（%1），请手动启动。</translation>
    </message>
    <message>
        <source>Take offline</source>
        <translation>生成离线副本</translation>
    </message>
    <message>
        <source>Copy %1 rows (about %2 MB) into a file on this computer for offline review?</source>
        <translation>将 %1 行数据（约 %2 MB）复制到本机文件，供离线查看？</translation>
    </message>
    <message>
        <source>Save snapshot</source>
        <translation>保存快照</translation>
    </message>
    <message>
        <source>Snapshot saved: %1</source>
        <translation>快照已保存：%1</translation>
    </message>
    <message>
        <source>Taking the branch offline…</source>
        <translation>正在复制机构数据…</translation>
    </message>
    <message>
        <source>Export meeting workbook</source>
        <translation>导出例会工作簿</translation>
    </message>
    <message>
        <source>Writing the meeting workbook…</source>
        <translation>正在生成例会工作簿…</translation>
    </message>
    <message>
        <source>The figures are being updated after the last change; the meeting workbook will be written as soon as they are current.</source>
        <translation>上次调整后的指标正在更新；指标更新完成后将立即生成会议工作簿。</translation>
    </message>
    <message>
        <source>Meeting workbook saved: %1</source>
        <translation>例会工作簿已保存：%1</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开所在文件夹</translation>
    </message>
    <message>
        <source>Open offline copy</source>
        <translation>打开离线副本</translation>
    </message>
    <message>
        <source>Offline copies (*.sqlite *.db)</source>
        <translation>离线副本 (*.sqlite *.db)</translation>
    </message>
    <message>
        <source>Grid map</source>
        <translation>网格地图</translation>
    </message>
    <message>
        <source>Specialists</source>
        <translation>网格专员</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Charts</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Intake</source>
        <translation>入池</translation>
    </message>
    <message>
        <source>Rebalance</source>
        <translation>再平衡</translation>
    </message>
    <message>
        <source>Scorecard</source>
        <translation>月度考核</translation>
    </message>
</context>
<context>
    <name>MapEditing</name>
    <message>
        <source>Give selected grids to…</source>
        <translation>将所选网格交给…</translation>
    </message>
    <message>
        <source>Give grids</source>
        <translation>分配网格</translation>
    </message>
    <message>
        <source>Locked: it stays with its owner</source>
        <translation>已锁定：留在原负责人名下</translation>
    </message>
    <message>
        <source>Nobody owns this grid: there is nothing to give</source>
        <translation>此网格无人负责：无可分配</translation>
    </message>
    <message>
        <source>Outside this plan&apos;s teams</source>
        <translation>不属于本方案的团队</translation>
    </message>
    <message>
        <source>Its owner is not in this plan (not active)</source>
        <translation>其负责人不在本方案内（非在职）</translation>
    </message>
    <message>
        <source>Outside this plan&apos;s scope</source>
        <translation>不在本方案范围内</translation>
    </message>
    <message>
        <source>Propose a plan to give grids on the map.</source>
        <translation>先生成方案，才能在地图上分配网格。</translation>
    </message>
    <message>
        <source>Click a grid to select it, Shift-click to add one, drag to draw a lasso.</source>
        <translation>单击网格即选中，按住 Shift 单击可加选，拖动可画套索圈选。</translation>
    </message>
    <message>
        <source>%1 grid selected · %2 customers</source>
        <translation>已选 %1 个网格 · %2 位客户</translation>
    </message>
    <message>
        <source>%1 grids selected · %2 customers</source>
        <translation>已选 %1 个网格 · %2 位客户</translation>
    </message>
    <message>
        <source>Reading the grids&apos; workloads…</source>
        <translation>正在读取各网格的工作量…</translation>
    </message>
    <message>
        <source>The plan was applied: undo it to edit it again</source>
        <translation>方案已执行：撤销后才能再次修改</translation>
    </message>
    <message>
        <source>Give the selected grids to a specialist (or right-click the map)</source>
        <translation>将所选网格交给一位网格专员（也可在地图上右击）</translation>
    </message>
    <message>
        <source>Select grids in the plan&apos;s scope first</source>
        <translation>请先选择本方案范围内的网格</translation>
    </message>
    <message>
        <source>%1 (%2) · workload %3 after · %4 / %5 customers</source>
        <translation>%1（%2）· 调整后工作量 %3 · 客户 %4 / %5</translation>
    </message>
    <message>
        <source>gives them now</source>
        <translation>现负责人</translation>
    </message>
</context>
<context>
    <name>MapPage</name>
    <message>
        <source>13-month persistency</source>
        <translation>13个月继续率</translation>
    </message>
    <message>
        <source>Open tasks of the owner</source>
        <translation>负责专员的未完成任务</translation>
    </message>
    <message>
        <source>Customers against capacity</source>
        <translation>客户数/服务上限</translation>
    </message>
    <message>
        <source>Coverage gaps</source>
        <translation>覆盖缺口</translation>
    </message>
    <message>
        <source>Colour grids by</source>
        <translation>网格着色依据</translation>
    </message>
    <message>
        <source>Save map as HTML…</source>
        <translation>地图另存为 HTML…</translation>
    </message>
    <message>
        <source>One file that opens in any browser, offline, with the colouring shown here</source>
        <translation>单个文件，任何浏览器均可离线打开，着色与此处相同</translation>
    </message>
    <message>
        <source>Loading the map…</source>
        <translation>正在加载地图…</translation>
    </message>
    <message>
        <source>Drawing…</source>
        <translation>正在绘制…</translation>
    </message>
    <message>
        <source>Reading the customers…</source>
        <translation>正在读取客户…</translation>
    </message>
    <message>
        <source>The map page could not be shown.</source>
        <translation>地图页面无法显示。</translation>
    </message>
    <message>
        <source>Simple map (the embedded browser is not available)</source>
        <translation>简易地图（内嵌浏览器不可用）</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <source>Grid map</source>
        <translation>网格地图</translation>
    </message>
    <message>
        <source>Save map</source>
        <translation>保存地图</translation>
    </message>
    <message>
        <source>Web page (*.html)</source>
        <translation>网页 (*.html)</translation>
    </message>
    <message>
        <source>Saving the map…</source>
        <translation>正在保存地图…</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存：%1</translation>
    </message>
</context>
<context>
    <name>NewPasswordDialog</name>
    <message>
        <source>Reset password</source>
        <translation>重置密码</translation>
    </message>
    <message>
        <source>New password for %1</source>
        <translation>%1 的新密码</translation>
    </message>
    <message>
        <source>Password again</source>
        <translation>再次输入密码</translation>
    </message>
</context>
<context>
    <name>ReassignDialog</name>
    <message>
        <source>Reassign tasks</source>
        <translation>转派任务</translation>
    </message>
    <message>
        <source>Move %1 selected task(s) to:</source>
        <translation>将所选 %1 个任务转给：</translation>
    </message>
    <message>
        <source>Specialist</source>
        <translation>网格专员</translation>
    </message>
</context>
<context>
    <name>RebalanceModels</name>
    <message>
        <source>Keep</source>
        <translation>保留</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Customer</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>From</source>
        <translation>移出专员</translation>
    </message>
    <message>
        <source>To</source>
        <translation>接收专员</translation>
    </message>
    <message>
        <source>Workload</source>
        <translation>工作量</translation>
    </message>
    <message>
        <source>Customers</source>
        <translation>客户数</translation>
    </message>
    <message>
        <source>From:
after</source>
        <translation>移出方
调整后</translation>
    </message>
    <message>
        <source>To:
after</source>
        <translation>接收方
调整后</translation>
    </message>
    <message>
        <source>The workload of the giving and of the receiving specialist once every move kept in the list is made, as in the workloads table.</source>
        <translation>执行列表中保留的全部调整项之后，移出专员和接收专员的工作量（与工作量表一致）。</translation>
    </message>
    <message>
        <source>Double-click to give this move to someone else</source>
        <translation>双击可改为交给其他专员</translation>
    </message>
    <message>
        <source>Specialist</source>
        <translation>网格专员</translation>
    </message>
    <message>
        <source>Workload
now</source>
        <translation>当前
工作量</translation>
    </message>
    <message>
        <source>Workload
after</source>
        <translation>调整后
工作量</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>变化</translation>
    </message>
    <message>
        <source>Customers
now</source>
        <translation>当前
客户数</translation>
    </message>
    <message>
        <source>Customers
after</source>
        <translation>调整后
客户数</translation>
    </message>
    <message>
        <source>Above capacity</source>
        <translation>超出服务上限</translation>
    </message>
    <message>
        <source>Capacity</source>
        <translation>服务上限</translation>
    </message>
    <message>
        <source>Team</source>
        <translation>团队</translation>
    </message>
</context>
<context>
    <name>RebalancePage</name>
    <message>
        <source>Each point is a plan: further left disrupts fewer customers, lower balances better. Click one to see it.</source>
        <translation>每个点是一个方案：越靠左影响的客户越少，越靠下越均衡。点击即可查看该方案。</translation>
    </message>
    <message>
        <source>A white diamond marks the plan as edited, once it is none of them.</source>
        <translation>白色菱形表示修改后的方案（已不同于其中任何一个）。</translation>
    </message>
    <message>
        <source>Disruption</source>
        <translation>扰动</translation>
    </message>
    <message>
        <source>Largest workload</source>
        <translation>最大工作量</translation>
    </message>
    <message>
        <source>Whole branch</source>
        <translation>全机构</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <source>Neighbouring grids only</source>
        <translation>仅限相邻网格</translation>
    </message>
    <message>
        <source>Grids go to the owner of a neighbouring grid, or also to anyone owning a grid within this distance</source>
        <translation>网格只交给相邻网格的专员，或交给在此距离内负责网格的专员</translation>
    </message>
    <message>
        <source>Whole grids only</source>
        <translation>仅整网格调整</translation>
    </message>
    <message>
        <source>Propose</source>
        <translation>生成方案</translation>
    </message>
    <message>
        <source>Load plan…</source>
        <translation>打开方案…</translation>
    </message>
    <message>
        <source>Save plan…</source>
        <translation>保存方案…</translation>
    </message>
    <message>
        <source>Scope</source>
        <translation>范围</translation>
    </message>
    <message>
        <source>At most</source>
        <translation>最多</translation>
    </message>
    <message>
        <source>moves; distance</source>
        <translation>项调整；距离</translation>
    </message>
    <message>
        <source>Keep…</source>
        <translation>存入方案库…</translation>
    </message>
    <message>
        <source>Keep the plan in the database under a name, to compare and apply later</source>
        <translation>将方案以名称保存到数据库，供日后对比和执行</translation>
    </message>
    <message>
        <source>Scenarios…</source>
        <translation>方案库…</translation>
    </message>
    <message>
        <source>The plans between the best balance and the fewest customers moved; the recommended one is where moving more customers stops buying much balance</source>
        <translation>从最均衡到调整客户最少之间的各个方案；推荐方案位于“再多调整客户也换不来多少均衡”的拐点</translation>
    </message>
    <message>
        <source>Trade-off</source>
        <translation>权衡</translation>
    </message>
    <message>
        <source>Choose the scope and the limits, then Propose: it takes a few seconds.</source>
        <translation>选择范围和限制条件，然后点击“生成方案”，需要几秒钟。</translation>
    </message>
    <message>
        <source>Workloads</source>
        <translation>工作量</translation>
    </message>
    <message>
        <source>Moves</source>
        <translation>调整项</translation>
    </message>
    <message>
        <source>Moves (untick to drop one, double-click “To” to change)</source>
        <translation>调整项（取消勾选可放弃该项，双击“接收专员”可更改）</translation>
    </message>
    <message>
        <source>Apply plan…</source>
        <translation>执行方案…</translation>
    </message>
    <message>
        <source>An offline snapshot is read-only</source>
        <translation>离线副本为只读</translation>
    </message>
    <message>
        <source>Your role may not change assignments</source>
        <translation>您的角色无权调整分配</translation>
    </message>
    <message>
        <source>Takes effect</source>
        <translation>生效日期</translation>
    </message>
    <message>
        <source>Rebalance</source>
        <translation>再平衡</translation>
    </message>
    <message>
        <source>No proposal yet</source>
        <translation>尚未生成方案</translation>
    </message>
    <message>
        <source>One plan</source>
        <translation>单一方案</translation>
    </message>
    <message>
        <source>Looking for the best moves…</source>
        <translation>正在寻找最佳调整方案…</translation>
    </message>
    <message>
        <source>Save plan</source>
        <translation>保存方案</translation>
    </message>
    <message>
        <source>Rebalancing plans (*.json)</source>
        <translation>再平衡方案 (*.json)</translation>
    </message>
    <message>
        <source>Plan saved to %1.</source>
        <translation>方案已保存到 %1。</translation>
    </message>
    <message>
        <source>Load plan</source>
        <translation>打开方案</translation>
    </message>
    <message>
        <source>This plan was made for branch %1, not for yours.</source>
        <translation>此方案是为机构 %1 制定的，不是您所在的机构。</translation>
    </message>
    <message>
        <source>Keep scenario</source>
        <translation>存入方案库</translation>
    </message>
    <message>
        <source>Name of the scenario:</source>
        <translation>方案名称：</translation>
    </message>
    <message>
        <source>Kept as scenario “%1”.</source>
        <translation>已保存为方案“%1”。</translation>
    </message>
    <message>
        <source>Apply this plan in one transaction?

%1 and %2 change hands: %3; %4. Their open tasks go with them; done tasks stay with who did them.</source>
        <translation>以一个事务执行此方案？

%1和%2将更换专员：%3；%4。他们的未完成任务随客户转移；已完成任务仍归原完成人。</translation>
    </message>
    <message>
        <source>%1 single customer</source>
        <translation>%1 位单独调整的客户</translation>
    </message>
    <message>
        <source>%1 single customers</source>
        <translation>%1 位单独调整的客户</translation>
    </message>
    <message>
        <source>%1 customer gets a new specialist</source>
        <translation>%1 位客户将有新的专员</translation>
    </message>
    <message>
        <source>%1 customers get a new specialist</source>
        <translation>%1 位客户将有新的专员</translation>
    </message>
    <message>
        <source>Above capacity afterwards: %1.</source>
        <translation>调整后超出服务上限：%1。</translation>
    </message>
    <message>
        <source>It takes effect on %1: until then nobody moves and no SMS goes out, and Scheduled… can cancel it.</source>
        <translation>方案将于 %1 生效：在此之前不调整任何人、不发送短信，可在“预定方案…”中取消。</translation>
    </message>
    <message>
        <source>Apply plan</source>
        <translation>执行方案</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>预定</translation>
    </message>
    <message>
        <source>Edit ▸ Undo (Ctrl+Z) puts everything back.</source>
        <translation>编辑 ▸ 撤销（Ctrl+Z）可全部恢复。</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>执行</translation>
    </message>
    <message>
        <source>Scheduled as plan %1, to take effect on %2: nobody moves and no SMS goes out before. Scheduled… lists it and can cancel it.</source>
        <translation>已预定为方案 %1，将于 %2 生效：在此之前不调整任何人、不发送短信。“预定方案…”中可查看和取消。</translation>
    </message>
    <message>
        <source>Applying the plan…</source>
        <translation>正在执行方案…</translation>
    </message>
    <message>
        <source>Applied: %1, %2 and %3 moved; %4. Edit ▸ Undo (Ctrl+Z) puts everything back.</source>
        <translation>已执行：调整 %1、%2和%3；%4。编辑 ▸ 撤销（Ctrl+Z）可全部恢复。</translation>
    </message>
    <message>
        <source>rebalance (%1)</source>
        <translation>再平衡（%1）</translation>
    </message>
    <message>
        <source>The plan was not applied; nothing was written.</source>
        <translation>方案未执行，数据没有任何改动。</translation>
    </message>
    <message>
        <source>The plan was undone. You may edit it and apply it again.</source>
        <translation>方案已撤销。可以修改后再次执行。</translation>
    </message>
    <message>
        <source>The data changed since this plan was made. Propose again to see the new workloads; applying refuses anything changed in between.</source>
        <translation>方案生成后数据已有变化。请重新生成方案查看最新工作量；执行时会拒绝其间已被他人改动的内容。</translation>
    </message>
    <message>
        <source>Workload per specialist: now and after the plan</source>
        <translation>各专员工作量：当前与调整后</translation>
    </message>
    <message>
        <source>now</source>
        <translation>当前</translation>
    </message>
    <message>
        <source>after the plan</source>
        <translation>调整后</translation>
    </message>
    <message>
        <source>weighted workload</source>
        <translation>加权工作量</translation>
    </message>
    <message>
        <source>customers</source>
        <translation>客户数</translation>
    </message>
    <message>
        <source>capacity</source>
        <translation>服务上限</translation>
    </message>
    <message>
        <source>best possible largest workload</source>
        <translation>最大工作量的理论下限</translation>
    </message>
    <message>
        <source>%1 customers: %2 → %3</source>
        <translation>%1 位客户：%2 → %3</translation>
    </message>
    <message>
        <source>unchanged</source>
        <translation>不变</translation>
    </message>
    <message>
        <source>Loading the map…</source>
        <translation>正在加载地图…</translation>
    </message>
    <message>
        <source>grid changes owner</source>
        <translation>网格更换专员</translation>
    </message>
    <message>
        <source>some customers move</source>
        <translation>部分客户调整</translation>
    </message>
    <message>
        <source>The exact solver failed in %1 step(s) (%2): this plan is what the search found without it, possibly less balanced. Propose again; if it repeats, tell whoever looks after GridDesk.</source>
        <translation>精确求解器有 %1 个步骤失败（%2）：本方案是未经其优化的搜索结果，均衡程度可能较差。请重新生成方案；如再次出现，请告知 GridDesk 的维护人员。</translation>
    </message>
    <message>
        <source>The search stopped on its time limit (%1) before its work was done, as on a very slow or busy computer: this plan may differ from one proposed again. Close other work and propose again.</source>
        <translation>搜索在完成既定计算量之前已达到时间上限（%1），通常是电脑过慢或过忙所致：本方案可能与再次生成的方案不同。请关闭其他工作后重新生成。</translation>
    </message>
    <message>
        <source>Largest workload %1 now, %2 after (no plan within these rules goes below %3).</source>
        <translation>最大工作量：当前 %1，调整后 %2（在这些规则下，任何方案都不可能低于 %3）。</translation>
    </message>
    <message>
        <source>%1: %2 and %3; %4.</source>
        <translation>共 %1：%2、%3；%4。</translation>
    </message>
    <message>
        <source>%1, all whole grids; %4.</source>
        <translation>共 %1，均为整网格调整；%4。</translation>
    </message>
    <message>
        <source>%1 customer changes specialist</source>
        <translation>%1 位客户更换专员</translation>
    </message>
    <message>
        <source>%1 customers change specialist</source>
        <translation>%1 位客户更换专员</translation>
    </message>
    <message>
        <source>What it breaks: %1 customers re-contacted, %2 relationships broken (4-sell step 2 or more), %3 SMS, disruption %4.</source>
        <translation>影响：需重新联系客户 %1 位，中断经营关系 %2 位（已达四步经营第 2 步及以上），短信 %3 条，加权扰动 %4。</translation>
    </message>
    <message>
        <source>%1 customers at 4-sell step %2 or beyond stay with their specialist.</source>
        <translation>四步经营第 %2 步及以上的 %1 位客户留在原专员名下。</translation>
    </message>
    <message>
        <source>%1 (%2 / %3)</source>
        <translation>%1（%2 / %3）</translation>
    </message>
    <message>
        <source>and %1 more</source>
        <translation>另有 %1 位</translation>
    </message>
    <message>
        <source>Still above capacity: %1.</source>
        <translation>调整后仍超出服务上限：%1。</translation>
    </message>
    <message>
        <source>Nobody ends above capacity.</source>
        <translation>调整后无人超出服务上限。</translation>
    </message>
    <message>
        <source>Capacity falls short by %1 customers in total: the excess is shared in proportion to capacity.</source>
        <translation>服务上限合计缺口 %1 位客户：超出部分按服务上限比例分摊。</translation>
    </message>
    <message>
        <source>%1 customers stay above capacity although the team has room: more moves or a wider reach would bring them within it.</source>
        <translation>团队尚有余量，但仍有 %1 位客户超出服务上限：放宽移动数量或距离可消除。</translation>
    </message>
    <message>
        <source>Largest %1 · %2 · %3 · disruption %4</source>
        <translation>最大工作量 %1 · %2 · %3 · 扰动 %4</translation>
    </message>
    <message>
        <source>(best balance)</source>
        <translation>（最均衡）</translation>
    </message>
    <message>
        <source>(recommended)</source>
        <translation>（推荐）</translation>
    </message>
</context>
<context>
    <name>RosterPage</name>
    <message>
        <source>Employee
no.</source>
        <translation>工号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Team</source>
        <translation>团队</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>Contract</source>
        <translation>合同类型</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Grids</source>
        <translation>网格数</translation>
    </message>
    <message>
        <source>Grids the specialist owns today (hover a number for their codes)</source>
        <translation>专员目前负责的网格数（鼠标停在数字上可见网格编号）</translation>
    </message>
    <message>
        <source>Customers
/ capacity</source>
        <translation>客户数 / 上限</translation>
    </message>
    <message>
        <source>Customers served today against the most the specialist may serve; red above it</source>
        <translation>目前服务的客户数与服务上限；超出上限显示为红色</translation>
    </message>
    <message>
        <source>Open
tasks</source>
        <translation>未完成任务</translation>
    </message>
    <message>
        <source>Tasks open or in progress</source>
        <translation>待办或进行中的任务</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>逾期</translation>
    </message>
    <message>
        <source>Tasks open or in progress past their due date</source>
        <translation>已过期限仍待办或进行中的任务</translation>
    </message>
    <message>
        <source>13-month
persistency</source>
        <translation>13个月继续率</translation>
    </message>
    <message>
        <source>Premium basis, policies whose second-year premium fell due from %1 to %2 (the last twelve whole months), attributed to who served them on the due date. Policies still in their grace period are left out until it ends.</source>
        <translation>保费口径：第二保单年度首期保费应缴日在 %1 至 %2（最近十二个完整月）的保单，按应缴日当天的服务专员归属。尚在宽限期内的保单在宽限期结束前不计入。</translation>
    </message>
    <message>
        <source>4-sell reached %
(1/2/3/4)</source>
        <translation>四步经营达成率%（1/2/3/4）</translation>
    </message>
    <message>
        <source>Of the customers who entered the pool from %1 to %2 and whom the specialist serves today: the share who have reached pre-sell, soft-sell, cross-sell and up-sell</source>
        <translation>%1 至 %2 入池、目前由该专员服务的客户中，达到建联加微、服务续收、综拓推荐、加保销售各阶段的比例</translation>
    </message>
    <message>
        <source>Tasks done
/ week</source>
        <translation>周均完成任务</translation>
    </message>
    <message>
        <source>Tasks completed per week, the mean of the last %1 whole weeks (Monday to Sunday): %2 to %3. The meeting workbook lists these weeks one by one.</source>
        <translation>每周完成任务数，取最近 %1 个完整周（周一至周日）的平均：%2 至 %3。会议工作簿逐周列出这几周。</translation>
    </message>
    <message>
        <source>First contact
on time</source>
        <translation>按时首次
联系率</translation>
    </message>
    <message>
        <source>Of the customers who entered the pool from %1 to %2: the share first contacted within the branch&apos;s target (File ▸ Branch settings), counted for the specialist who had them when that was settled (the day of contact, or the target&apos;s last day). Customers still within their target are left out until it passes.</source>
        <translation>%1 至 %2 入池的客户中，在本机构目标天数内（文件 ▸ 机构设置）完成首次联系的比例；计入结果确定当天服务该客户的专员（联系当天，或目标期限的最后一天）。仍在目标期限内的客户在期限过后才计入。</translation>
    </message>
    <message>
        <source>Service
equity</source>
        <translation>服务公平</translation>
    </message>
    <message>
        <source>Completion rate of servicing and renewal tasks of the last 365 days: customers who reached cross-sell or up-sell minus those who did not, in points. ⚠ when the buyers are served more than %1 points better.</source>
        <translation>最近 365 天保全与续收任务的完成率：已综拓或加保的客户减去未综拓或加保的客户，以百分点计。前者高出 %1 个百分点以上时标记 ⚠。</translation>
    </message>
    <message>
        <source>On %1 policies</source>
        <translation>基于 %1 件保单</translation>
    </message>
    <message>
        <source>too few to judge (under %1): shown pale</source>
        <translation>样本过少（不足 %1 件），仅供参考，以浅色显示</translation>
    </message>
    <message>
        <source>No customer of the last %1 days of pool entries settled yet</source>
        <translation>最近 %1 天入池的客户尚无已确定的结果</translation>
    </message>
    <message>
        <source>%1 of %2 customers first contacted within %3 days; %4 still within the target</source>
        <translation>%2 位客户中有 %1 位在 %3 天内完成首次联系；另有 %4 位仍在目标期限内</translation>
    </message>
    <message>
        <source>%1 pts</source>
        <translation>%1 个百分点</translation>
    </message>
    <message>
        <source>All teams</source>
        <translation>全部团队</translation>
    </message>
    <message>
        <source>Active only</source>
        <translation>仅在职</translation>
    </message>
    <message>
        <source>Search name, employee no., team or grid</source>
        <translation>搜索姓名、工号、团队或网格</translation>
    </message>
    <message>
        <source>Specialist leaves…</source>
        <translation>专员离职…</translation>
    </message>
    <message>
        <source>Hand the selected specialist&apos;s grids, customers and open tasks to others</source>
        <translation>将所选专员的网格、客户和未完成任务交给其他专员</translation>
    </message>
    <message>
        <source>Weekly visit list…</source>
        <translation>周拜访清单…</translation>
    </message>
    <message>
        <source>Print or export the week&apos;s visits of the selected specialist or a team</source>
        <translation>打印或导出所选专员或团队本周的拜访清单</translation>
    </message>
    <message>
        <source>Show tasks</source>
        <translation>查看任务</translation>
    </message>
    <message>
        <source>Show the selected specialist&apos;s tasks on the Tasks page</source>
        <translation>在“任务”页查看所选专员的任务</translation>
    </message>
    <message>
        <source>Specialists</source>
        <translation>网格专员</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Not in the table: %1 open tasks nobody holds, %2 overdue.</source>
        <translation>另有 %1 项未完成任务无人负责（逾期 %2 项），不计入上表。</translation>
    </message>
    <message>
        <source>Show them</source>
        <translation>查看</translation>
    </message>
    <message>
        <source>%1 of %2 specialists · %3 open tasks, %4 overdue</source>
        <translation>显示 %1 / 共 %2 位专员 · 未完成任务 %3 项，逾期 %4 项</translation>
    </message>
</context>
<context>
    <name>Scenarios</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Kept</source>
        <translation>保存时间</translation>
    </message>
    <message>
        <source>By</source>
        <translation>保存人</translation>
    </message>
    <message>
        <source>Scope</source>
        <translation>范围</translation>
    </message>
    <message>
        <source>Whole branch</source>
        <translation>全分公司</translation>
    </message>
    <message>
        <source>As of</source>
        <translation>数据日期</translation>
    </message>
    <message>
        <source>Moves</source>
        <translation>调动数</translation>
    </message>
    <message>
        <source>Customers
moved</source>
        <translation>调动
客户数</translation>
    </message>
    <message>
        <source>Largest
workload after</source>
        <translation>调整后
最大工作量</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>at most %1 move</source>
        <translation>最多 %1 项调动</translation>
    </message>
    <message>
        <source>at most %1 moves</source>
        <translation>最多 %1 项调动</translation>
    </message>
    <message>
        <source>no move limit</source>
        <translation>不限调动数</translation>
    </message>
    <message>
        <source>within %1 km</source>
        <translation>%1 公里以内</translation>
    </message>
    <message>
        <source>step %1 and beyond kept</source>
        <translation>第 %1 步及以上客户保留</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>当前</translation>
    </message>
    <message>
        <source>Specialist</source>
        <translation>专员</translation>
    </message>
    <message>
        <source>Team</source>
        <translation>团队</translation>
    </message>
    <message>
        <source>Customers</source>
        <translation>客户数</translation>
    </message>
    <message>
        <source>Above capacity</source>
        <translation>超出容量</translation>
    </message>
    <message>
        <source>Capacity</source>
        <translation>容量</translation>
    </message>
    <message>
        <source>Workload</source>
        <translation>工作量</translation>
    </message>
    <message>
        <source>Customers moved</source>
        <translation>调动客户数</translation>
    </message>
    <message>
        <source>SMS</source>
        <translation>短信</translation>
    </message>
    <message>
        <source>Relationships broken</source>
        <translation>中断经营关系</translation>
    </message>
    <message>
        <source>Largest workload</source>
        <translation>最大工作量</translation>
    </message>
    <message>
        <source>Customers above capacity</source>
        <translation>超出容量的客户数</translation>
    </message>
    <message>
        <source>Specialists above capacity</source>
        <translation>超出容量的专员数</translation>
    </message>
    <message>
        <source>nobody</source>
        <translation>无人</translation>
    </message>
</context>
<context>
    <name>ScenariosDialog</name>
    <message>
        <source>Scenarios</source>
        <translation>方案库</translation>
    </message>
    <message>
        <source>Select one scenario to show it on the page or compare it with today; select two to compare them.</source>
        <translation>选中一个方案可在页面上查看或与当前对比；选中两个方案可相互对比。</translation>
    </message>
    <message>
        <source>Show on the page</source>
        <translation>在页面上查看</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Compare with today</source>
        <translation>与当前对比</translation>
    </message>
    <message>
        <source>Rename scenario</source>
        <translation>重命名方案</translation>
    </message>
    <message>
        <source>New name:</source>
        <translation>新名称：</translation>
    </message>
    <message>
        <source>Delete scenario</source>
        <translation>删除方案</translation>
    </message>
    <message>
        <source>Delete scenario “%1”? Nothing it proposes was applied by keeping it.</source>
        <translation>删除方案“%1”？保存方案时其中的调动并未执行。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>ScheduledDialog</name>
    <message>
        <source>Scheduled plans</source>
        <translation>预定方案</translation>
    </message>
    <message>
        <source>Cancel plan…</source>
        <translation>取消方案…</translation>
    </message>
    <message>
        <source>A waiting plan takes effect on its day, when GridDesk next opens on the branch&apos;s database (or `griddesk rebalance release` runs); one overtaken by then is refused, with the reason.</source>
        <translation>等待中的方案在生效日当天、GridDesk 下次连接本机构数据库打开时（或运行 `griddesk rebalance release` 时）执行；届时如数据已被他人更改，则拒绝执行并说明原因。</translation>
    </message>
    <message>
        <source>Cancel plan %1, due to take effect on %2? Nobody has moved yet.</source>
        <translation>取消方案 %1（原定 %2 生效）？目前尚未调整任何人。</translation>
    </message>
    <message>
        <source>Cancel plan</source>
        <translation>取消方案</translation>
    </message>
</context>
<context>
    <name>ScheduledPlans</name>
    <message>
        <source>today, at once</source>
        <translation>今天，立即生效</translation>
    </message>
    <message>
        <source>The day the moves take effect. A later day (e.g. %1, the first of next month) keeps the plan waiting: nobody moves and no SMS goes out before; it can be cancelled until then.</source>
        <translation>调整生效的日期。选择以后的日期（例如下月一日 %1）时，方案会等到那天：在此之前不调整任何人、不发送短信，并可随时取消。</translation>
    </message>
    <message>
        <source>Scheduled plans</source>
        <translation>预定方案</translation>
    </message>
    <message>
        <source>Plan %1, from %2: applied, %3 moved.</source>
        <translation>方案 %1（%2 生效）：已执行，调整 %3。</translation>
    </message>
    <message>
        <source>Plan %1, from %2: not applied, it was overtaken: %3</source>
        <translation>方案 %1（%2 生效）：未执行，数据已被他人更改：%3</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Takes effect</source>
        <translation>生效日期</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Team</source>
        <translation>团队</translation>
    </message>
    <message>
        <source>branch</source>
        <translation>全机构</translation>
    </message>
    <message>
        <source>Grids</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Single
customers</source>
        <translation>单独调整
客户</translation>
    </message>
    <message>
        <source>By</source>
        <translation>操作人</translation>
    </message>
    <message>
        <source>Scheduled at</source>
        <translation>预定时间</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>change batch %1</source>
        <translation>变更批次 %1</translation>
    </message>
    <message>
        <source>Scheduled…</source>
        <translation>预定方案…</translation>
    </message>
    <message>
        <source>Plans waiting for a later effective date, and those decided</source>
        <translation>等待以后日期生效的方案，以及已处理的方案</translation>
    </message>
</context>
<context>
    <name>ScorecardPage</name>
    <message>
        <source>Renewal
collected</source>
        <translation>续收
达成率</translation>
    </message>
    <message>
        <source>13-month
persistency</source>
        <translation>13个月
继续率</translation>
    </message>
    <message>
        <source>Tasks
on time</source>
        <translation>任务
按时率</translation>
    </message>
    <message>
        <source>First contact
on time</source>
        <translation>首次建联
及时率</translation>
    </message>
    <message>
        <source>Service
equity</source>
        <translation>服务
公平</translation>
    </message>
    <message>
        <source>Renewal premiums (policy year 2 on) due in the month, for who served the customer on the due date: received within the %1-day grace period and by the as-of date (capped at the amount due), over the amount due. Rows still in their grace period are pending and left out.</source>
        <translation>当月应缴的续期保费（第二保单年度起），按应缴日当天服务客户的专员归属：宽限期 %1 天内且不晚于数据截至日的实收（不超过应收）÷ 应收。宽限期未满的不计入，单列为未到期。</translation>
    </message>
    <message>
        <source>13-month persistency, premium basis, of the policies whose second-year premium fell due in the month: the meeting workbook&apos;s figure by specialist.</source>
        <translation>13个月继续率（保费口径），第二保单年度首期保费应缴日在当月的保单；与周例会数据的专员继续率相同。</translation>
    </message>
    <message>
        <source>Tasks due in the month (cancelled ones left out), for who holds them: done on or before the due date, of those settled (done, failed, or past due). Tasks not yet due are pending.</source>
        <translation>截止日在当月的任务（已取消的不计），按持有任务的专员统计：截止日当天或之前完成的比例，只计已有结果的任务（已完成、失败或已过截止日）。未到截止日的任务单列为未到期。</translation>
    </message>
    <message>
        <source>Customers who entered the pool in the 90 days to the month&apos;s end first contacted within the branch&apos;s target, of those settled: the roster&apos;s hand-off figure on the month&apos;s last day.</source>
        <translation>月末前 90 天入池的客户中，在机构目标天数内首次建联的比例（只计已有结果的客户）；即专员名单交接时效在月末当天的数字。</translation>
    </message>
    <message>
        <source>Completion-rate gap of servicing and renewal tasks (365 days to the month&apos;s end) between customers who bought more and those who did not, in points. The standard is no flag.</source>
        <translation>保全与续收任务（截至月末的 365 天）完成率：已综拓或加保的客户减去未加保的客户，以百分点计。标准为无标记。</translation>
    </message>
    <message>
        <source>%1 few</source>
        <translation>%1 少量</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>%1 of %2 due</source>
        <translation>应收 %2，实收 %1</translation>
    </message>
    <message>
        <source>rows</source>
        <translation>笔</translation>
    </message>
    <message>
        <source>policies</source>
        <translation>份保单</translation>
    </message>
    <message>
        <source>%1 rows settled</source>
        <translation>已结算 %1 笔</translation>
    </message>
    <message>
        <source>%1 policies</source>
        <translation>%1 份保单</translation>
    </message>
    <message>
        <source>%1 servicing and renewal tasks compared</source>
        <translation>比较了 %1 个保全与续收任务</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%2 中 %1</translation>
    </message>
    <message>
        <source>tasks</source>
        <translation>个任务</translation>
    </message>
    <message>
        <source>customers</source>
        <translation>位客户</translation>
    </message>
    <message>
        <source>; %1 %2 pending</source>
        <translation>；另有 %1 %2 未到期</translation>
    </message>
    <message>
        <source>Too few tasks to compare: not judged</source>
        <translation>任务太少，无法比较：不评定</translation>
    </message>
    <message>
        <source>No flag: met</source>
        <translation>无标记：达标</translation>
    </message>
    <message>
        <source>Flagged: not met</source>
        <translation>已标记：未达标</translation>
    </message>
    <message>
        <source>Fewer than %1 policies: too few to judge (standard %2)</source>
        <translation>不足 %1 份保单：样本过少，不评判（标准 %2）</translation>
    </message>
    <message>
        <source>Nothing settled yet: not judged (standard %1)</source>
        <translation>尚无结果：不评定（标准 %1）</translation>
    </message>
    <message>
        <source>Met: standard %1</source>
        <translation>达标：标准 %1</translation>
    </message>
    <message>
        <source>Not met: standard %1</source>
        <translation>未达标：标准 %1</translation>
    </message>
    <message>
        <source>Employee
no.</source>
        <translation>工号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Team</source>
        <translation>团队</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>%1
(change)</source>
        <translation>%1
（变化）</translation>
    </message>
    <message>
        <source>Previous</source>
        <translation>上月</translation>
    </message>
    <message>
        <source>The previous month&apos;s value and the change, in points</source>
        <translation>上月数值及变化（百分点）</translation>
    </message>
    <message>
        <source>Standards
met</source>
        <translation>达标
项数</translation>
    </message>
    <message>
        <source>Standards met of the figures that could be judged</source>
        <translation>可评定的各项中达标的项数</translation>
    </message>
    <message>
        <source>The month judged. It opens on the latest month whose premiums are all past their grace period, so renewal and persistency are final.</source>
        <translation>考核的月份。默认为保费已全部过宽限期的最近一个月，续收与继续率已是最终结果。</translation>
    </message>
    <message>
        <source>All teams</source>
        <translation>全部团队</translation>
    </message>
    <message>
        <source>Export workbook…</source>
        <translation>导出工作簿…</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>月份</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Scorecard</source>
        <translation>月度考核</translation>
    </message>
    <message>
        <source>Standards: renewal collected ≥ %1%, 13-month persistency ≥ %2%, tasks on time ≥ %3%, first contact on time ≥ %4%, no service-equity flag. ✓ met, ✗ not met, ⚠ flagged; hover a cell for n of m.</source>
        <translation>考核标准：续收达成率 ≥ %1%，13个月继续率 ≥ %2%，任务按时完成率 ≥ %3%，首次建联及时率 ≥ %4%，服务公平无标记。✓ 达标，✗ 未达标，⚠ 已标记；鼠标停在单元格上可见分子分母。</translation>
    </message>
    <message>
        <source>%1 compared with %2, as of %3 · %4 specialists</source>
        <translation>%1 对比 %2，数据截至 %3 · %4 名专员</translation>
    </message>
    <message>
        <source>Save scorecard workbook</source>
        <translation>保存月度考核工作簿</translation>
    </message>
    <message>
        <source>Written: %1</source>
        <translation>已写入：%1</translation>
    </message>
    <message>
        <source>Scorecard workbook</source>
        <translation>月度考核工作簿</translation>
    </message>
    <message>
        <source>The figures are being updated after the last change; the workbook will be written as soon as they are current.</source>
        <translation>上次调整后的指标正在更新；指标更新完成后将立即生成工作簿。</translation>
    </message>
</context>
<context>
    <name>SelectionChips</name>
    <message>
        <source>Picked on the map; click to show every grid again, on every page</source>
        <translation>在地图上选定；点击后各页重新显示全部网格</translation>
    </message>
    <message>
        <source>Click to show everyone again, on every page</source>
        <translation>点击后各页重新显示全部人员</translation>
    </message>
    <message>
        <source>Click to show every team again, on every page</source>
        <translation>点击后各页重新显示全部团队</translation>
    </message>
    <message>
        <source>Grid %1 ✕</source>
        <translation>网格 %1 ✕</translation>
    </message>
    <message>
        <source>Specialist %1 ✕</source>
        <translation>专员 %1 ✕</translation>
    </message>
    <message>
        <source>Team %1 ✕</source>
        <translation>团队 %1 ✕</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Empty: the local database on this computer</source>
        <translation>留空：使用本机数据库</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <source>This computer has no password store: GridDesk keeps the database password only until it closes, and asks for it again at the next start.</source>
        <translation>本机没有密码存储：GridDesk 只在运行期间保留数据库密码，下次启动时会再次询问。</translation>
    </message>
    <message>
        <source>Show online map tiles under the grids (needs network)</source>
        <translation>在网格下显示在线底图（需要网络）</translation>
    </message>
    <message>
        <source>Defaults</source>
        <translation>恢复默认值</translation>
    </message>
    <message>
        <source>Workload weights (rebalancing)</source>
        <translation>工作量权重（用于再平衡）</translation>
    </message>
    <message>
        <source>A customer counts</source>
        <translation>每位客户计为</translation>
    </message>
    <message>
        <source>An open task counts</source>
        <translation>每项未完成任务计为</translation>
    </message>
    <message>
        <source>10,000 yuan due in the next 90 days counts</source>
        <translation>未来 90 天应收保费每 1 万元计为</translation>
    </message>
    <message>
        <source>× when moved in the last</source>
        <translation>倍，若在最近</translation>
    </message>
    <message>
        <source>days</source>
        <translation>天内调整过</translation>
    </message>
    <message>
        <source>What moving a customer costs (rebalancing)</source>
        <translation>调整一位客户的代价（均衡调整）</translation>
    </message>
    <message>
        <source>By 4-sell step reached</source>
        <translation>按已达四步经营步骤</translation>
    </message>
    <message>
        <source>A recent move weighs</source>
        <translation>近期调整过的客户</translation>
    </message>
    <message>
        <source>Language and database changes take effect the next time GridDesk starts.</source>
        <translation>语言和数据库的更改在下次启动 GridDesk 时生效。</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Shared database URL</source>
        <translation>共享数据库地址</translation>
    </message>
    <message>
        <source>Database</source>
        <translation>数据库</translation>
    </message>
    <message>
        <source>The local database is always available.</source>
        <translation>本机数据库始终可用。</translation>
    </message>
    <message>
        <source>Connected to %1.</source>
        <translation>已连接 %1。</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Sign in to GridDesk</source>
        <translation>登录 GridDesk</translation>
    </message>
    <message>
        <source>GridDesk · Community grid workbench</source>
        <translation>GridDesk · 社区网格工作台</translation>
    </message>
    <message>
        <source>Database: %1</source>
        <translation>数据库：%1</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Enter your user name and password.</source>
        <translation>请输入用户名和密码。</translation>
    </message>
    <message>
        <source>Wrong user name or password.</source>
        <translation>用户名或密码错误。</translation>
    </message>
    <message>
        <source>Too many wrong passwords: this account is locked. Try again in %1 minutes.</source>
        <translation>密码错误次数过多，账户已被锁定。请 %1 分钟后再试。</translation>
    </message>
</context>
<context>
    <name>SpecialistDialog</name>
    <message>
        <source>Customer no.</source>
        <translation>客户号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>证件号码</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Entered pool</source>
        <translation>入池日期</translation>
    </message>
    <message>
        <source>4-sell step</source>
        <translation>四步经营阶段</translation>
    </message>
    <message>
        <source>Open tasks</source>
        <translation>未完成任务</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Customer</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>What</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Which</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>From</source>
        <translation>原专员</translation>
    </message>
    <message>
        <source>To</source>
        <translation>新专员</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>By</source>
        <translation>操作人</translation>
    </message>
    <message>
        <source>%1 customers of %2</source>
        <translation>客户 %1 / 上限 %2</translation>
    </message>
    <message>
        <source>13-month persistency %1</source>
        <translation>13个月继续率 %1</translation>
    </message>
    <message>
        <source>grids: %1</source>
        <translation>网格：%1</translation>
    </message>
    <message>
        <source>Customers</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>History</source>
        <translation>分配记录</translation>
    </message>
</context>
<context>
    <name>StepLock</name>
    <message>
        <source>off</source>
        <translation>不限</translation>
    </message>
    <message>
        <source>Customers who reached this 4-sell step or a later one never move: they stay with their specialist, as locked customers do</source>
        <translation>已达到该四步经营阶段及以后阶段的客户不调动：与锁定客户一样留在原专员名下</translation>
    </message>
    <message>
        <source>Keep customers at step ≥</source>
        <translation>保留经营阶段 ≥</translation>
    </message>
    <message>
        <source>locks %1 customers</source>
        <translation>锁定 %1 位客户</translation>
    </message>
</context>
<context>
    <name>TableExport</name>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Export table as Excel…</source>
        <translation>表格导出为 Excel…</translation>
    </message>
    <message>
        <source>Export table as CSV…</source>
        <translation>表格导出为 CSV…</translation>
    </message>
    <message>
        <source>Excel workbook (*.xlsx)</source>
        <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <source>CSV, UTF-8 (*.csv)</source>
        <translation>CSV，UTF-8 编码 (*.csv)</translation>
    </message>
    <message>
        <source>Export table</source>
        <translation>导出表格</translation>
    </message>
    <message>
        <source>Exporting %1…</source>
        <translation>正在导出“%1”…</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存：%1</translation>
    </message>
</context>
<context>
    <name>TasksPage</name>
    <message>
        <source>Task</source>
        <translation>任务编号</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Customer</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>Specialist</source>
        <translation>网格专员</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>截止日期</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>完成时间</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Everyone in my scope</source>
        <translation>我管辖的全部人员</translation>
    </message>
    <message>
        <source>Nobody (tasks no one holds)</source>
        <translation>无人负责的任务</translation>
    </message>
    <message>
        <source>Team: %1</source>
        <translation>团队：%1</translation>
    </message>
    <message>
        <source>All kinds</source>
        <translation>全部类型</translation>
    </message>
    <message>
        <source>Open or in progress</source>
        <translation>待办或进行中</translation>
    </message>
    <message>
        <source>Any status</source>
        <translation>任意状态</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>仅逾期</translation>
    </message>
    <message>
        <source>Search task, customer name or number</source>
        <translation>搜索任务、客户姓名或客户号</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Hand-offs late</source>
        <translation>交接超时</translation>
    </message>
    <message>
        <source>Customers past a hand-off target (File ▸ Branch settings) with it not reached</source>
        <translation>超过交接时效目标（文件 ▸ 机构设置）仍未达成的客户</translation>
    </message>
    <message>
        <source>Reassign selected…</source>
        <translation>转派所选…</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>counting…</source>
        <translation>正在计数…</translation>
    </message>
    <message>
        <source>%1 tasks</source>
        <translation>%1 个任务</translation>
    </message>
</context>
<context>
    <name>UserGuideWindow</name>
    <message>
        <source>GridDesk user guide</source>
        <translation>GridDesk 用户指南</translation>
    </message>
</context>
<context>
    <name>UsersDialog</name>
    <message>
        <source>Deactivated</source>
        <translation>已停用</translation>
    </message>
    <message>
        <source>Locked until %1</source>
        <translation>锁定至 %1</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>在用</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Teams</source>
        <translation>团队</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Last sign-in</source>
        <translation>最近登录</translation>
    </message>
    <message>
        <source>never</source>
        <translation>从未登录</translation>
    </message>
    <message>
        <source>A password needs at least %1 characters.</source>
        <translation>密码至少需要 %1 个字符。</translation>
    </message>
    <message>
        <source>The two passwords differ.</source>
        <translation>两次输入的密码不一致。</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>用户管理</translation>
    </message>
    <message>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <source>Reset password…</source>
        <translation>重置密码…</translation>
    </message>
    <message>
        <source>Deactivate…</source>
        <translation>停用…</translation>
    </message>
    <message>
        <source>User %1 added.</source>
        <translation>已添加用户 %1。</translation>
    </message>
    <message>
        <source>%1 has a new password.</source>
        <translation>已为 %1 设置新密码。</translation>
    </message>
    <message>
        <source>Deactivate</source>
        <translation>停用</translation>
    </message>
    <message>
        <source>Deactivate %1 (%2)? They will no longer be able to sign in.</source>
        <translation>停用 %1（%2）？停用后该用户将无法登录。</translation>
    </message>
    <message>
        <source>%1 is deactivated.</source>
        <translation>%1 已停用。</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
</context>
<context>
    <name>VisitListDialog</name>
    <message>
        <source>Weekly visit list</source>
        <translation>周拜访清单</translation>
    </message>
    <message>
        <source>Specialist: %1</source>
        <translation>专员：%1</translation>
    </message>
    <message>
        <source>Every active specialist of team %1</source>
        <translation>团队 %1 的全部在岗专员</translation>
    </message>
    <message>
        <source>PDF to print (one A4 page per day)</source>
        <translation>打印用 PDF（每天一页 A4）</translation>
    </message>
    <message>
        <source>Excel workbook (one sheet per specialist)</source>
        <translation>Excel 工作簿（每位专员一张工作表）</translation>
    </message>
    <message>
        <source>Week</source>
        <translation>周次</translation>
    </message>
    <message>
        <source>Lists of</source>
        <translation>清单对象</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Open tasks due in the week or overdue, premiums due in the 30 days from its Monday without a renewal task, and customers past a hand-off target, grouped by grid along a short walking route, Monday to Friday.</source>
        <translation>收录本周到期或已逾期的待办任务、自周一起 30 天内应缴且尚无续收任务的保费，以及交接时效超期的客户；按网格分组、沿较短的步行路线排序，排入周一至周五。</translation>
    </message>
    <message>
        <source>Save visit lists</source>
        <translation>保存拜访清单</translation>
    </message>
    <message>
        <source>There is no team or specialist to list.</source>
        <translation>没有可列出的团队或专员。</translation>
    </message>
    <message>
        <source>The file name must end with .pdf or .xlsx.</source>
        <translation>文件名须以 .pdf 或 .xlsx 结尾。</translation>
    </message>
    <message>
        <source>Choose a file in an existing folder.</source>
        <translation>请选择已存在的文件夹中的文件。</translation>
    </message>
    <message>
        <source>Visit lists saved: %1</source>
        <translation>拜访清单已保存：%1</translation>
    </message>
    <message>
        <source>Writing the visit lists…</source>
        <translation>正在生成拜访清单…</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <source>GridDesk met an unexpected problem:</source>
        <translation>GridDesk 遇到了意外问题：</translation>
    </message>
    <message>
        <source>The details are in the log file:</source>
        <translation>详细信息已记录在日志文件中：</translation>
    </message>
    <message>
        <source>The database cannot be reached or used:</source>
        <translation>无法连接或使用数据库：</translation>
    </message>
    <message>
        <source>Check the server address, port and network, or the URL in File → Settings; your IT department can help with a shared database.</source>
        <translation>请检查服务器地址、端口和网络，或“文件 → 设置”中的数据库地址；共享数据库的问题可联系 IT 部门。</translation>
    </message>
    <message>
        <source>Someone else changed this data in the meantime: reload and try again.</source>
        <translation>其他人刚刚修改了这些数据：请刷新后重试。</translation>
    </message>
    <message>
        <source>The database is busy: someone else is saving. Try again in a moment.</source>
        <translation>数据库正忙：其他人正在保存。请稍后再试。</translation>
    </message>
    <message>
        <source>The database server cannot be reached: it may be stopped or restarting, or the network is down. Try again in a moment; GridDesk carries on once it is back (if it never worked, check the server address in File → Settings).</source>
        <translation>无法连接数据库服务器：服务器可能已停止或正在重启，或网络中断。请稍后再试；服务器恢复后 GridDesk 即可继续使用（如果从未连通过，请在“文件 → 设置”中检查服务器地址）。</translation>
    </message>
    <message>
        <source>This database is read-only here (an offline copy, or a file you may not change).</source>
        <translation>此数据库在这里是只读的（离线副本，或您无权修改的文件）。</translation>
    </message>
    <message>
        <source>This database&apos;s tables do not match this GridDesk: run &apos;griddesk init&apos; (for a shared database, ask whoever looks after it).</source>
        <translation>此数据库的表结构与当前 GridDesk 不符：请运行“griddesk init”（共享数据库请联系其管理员）。</translation>
    </message>
    <message>
        <source>This database was last upgraded by a newer GridDesk: install that version.</source>
        <translation>此数据库已由更新版本的 GridDesk 升级：请安装该版本。</translation>
    </message>
    <message>
        <source>The change would break a rule of the data (a duplicate, or a reference to something missing); nothing was saved.</source>
        <translation>此修改会违反数据规则（重复，或引用了不存在的内容）；未保存任何内容。</translation>
    </message>
    <message>
        <source>This file is not a GridDesk database, or it is damaged.</source>
        <translation>此文件不是 GridDesk 数据库，或已损坏。</translation>
    </message>
</context>
<context>
    <name>labels</name>
    <message>
        <source>Pre-sell (contact, WeChat)</source>
        <translation>建联加微</translation>
    </message>
    <message>
        <source>Renewal collection</source>
        <translation>续收</translation>
    </message>
    <message>
        <source>Policy servicing</source>
        <translation>保全服务</translation>
    </message>
    <message>
        <source>Cross-sell / referral</source>
        <translation>综拓推荐</translation>
    </message>
    <message>
        <source>Up-sell</source>
        <translation>加保销售</translation>
    </message>
    <message>
        <source>Callback (online seat)</source>
        <translation>回访（线上坐席）</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>待办</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>进行中</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>在职</translation>
    </message>
    <message>
        <source>On leave</source>
        <translation>休假</translation>
    </message>
    <message>
        <source>Left</source>
        <translation>离职</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>等待生效</translation>
    </message>
    <message>
        <source>applied</source>
        <translation>已执行</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>refused</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>Labour contract</source>
        <translation>劳动合同</translation>
    </message>
    <message>
        <source>Service contract</source>
        <translation>劳务合同</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>线下</translation>
    </message>
    <message>
        <source>Online seat</source>
        <translation>线上坐席</translation>
    </message>
    <message>
        <source>Senior supervisor</source>
        <translation>资深主管</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>主管</translation>
    </message>
    <message>
        <source>Analyst</source>
        <translation>分析员</translation>
    </message>
    <message>
        <source>Pre-sell</source>
        <translation>建联加微</translation>
    </message>
    <message>
        <source>Soft-sell</source>
        <translation>服务续收</translation>
    </message>
    <message>
        <source>Cross-sell</source>
        <translation>综拓推荐</translation>
    </message>
    <message>
        <source>Matched at intake</source>
        <translation>入池自动匹配</translation>
    </message>
    <message>
        <source>Rebalancing</source>
        <translation>再平衡</translation>
    </message>
    <message>
        <source>Assigned by hand</source>
        <translation>人工指定</translation>
    </message>
    <message>
        <source>Specialist left</source>
        <translation>专员离职交接</translation>
    </message>
    <message>
        <source>Imported</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Undone</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>GridDesk (automatic)</source>
        <translation>系统自动</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>%1 move</source>
        <translation>%1 项调整</translation>
    </message>
    <message>
        <source>%1 moves</source>
        <translation>%1 项调整</translation>
    </message>
    <message>
        <source>%1 grid</source>
        <translation>%1 个网格</translation>
    </message>
    <message>
        <source>%1 grids</source>
        <translation>%1 个网格</translation>
    </message>
    <message>
        <source>%1 customer</source>
        <translation>%1 位客户</translation>
    </message>
    <message>
        <source>%1 customers</source>
        <translation>%1 位客户</translation>
    </message>
    <message>
        <source>%1 open task</source>
        <translation>%1 个未完成任务</translation>
    </message>
    <message>
        <source>%1 open tasks</source>
        <translation>%1 个未完成任务</translation>
    </message>
    <message>
        <source> </source>
        <translation>​</translation>
    </message>
</context>
<context>
    <name>messages</name>
    <message>
        <source>Drawing the city&apos;s grids</source>
        <translation>正在划分城市网格</translation>
    </message>
    <message>
        <source>Hiring the teams</source>
        <translation>正在组建团队</translation>
    </message>
    <message>
        <source>Writing customers, policies and tasks</source>
        <translation>正在写入客户、保单和任务</translation>
    </message>
    <message>
        <source>Deriving the 4-sell steps</source>
        <translation>正在推算四步经营阶段</translation>
    </message>
    <message>
        <source>Refreshing the persistency base</source>
        <translation>正在更新继续率基础数据</translation>
    </message>
    <message>
        <source>Demo branch ready</source>
        <translation>演示机构已就绪</translation>
    </message>
    <message>
        <source>Reading workloads</source>
        <translation>正在读取工作量</translation>
    </message>
    <message>
        <source>Reading the customers of the heaviest grids</source>
        <translation>正在读取工作量最重网格的客户</translation>
    </message>
    <message>
        <source>Looking for the best moves</source>
        <translation>正在寻找最佳调整方案</translation>
    </message>
    <message>
        <source>Writing the plan</source>
        <translation>正在写出方案</translation>
    </message>
    <message>
        <source>Weighing what the moves break</source>
        <translation>正在评估调整对客户关系的影响</translation>
    </message>
    <message>
        <source>Plan ready</source>
        <translation>方案已生成</translation>
    </message>
    <message>
        <source>Choosing new owners</source>
        <translation>正在选择新的负责专员</translation>
    </message>
    <message>
        <source>Handing over the other customers</source>
        <translation>正在移交其余客户</translation>
    </message>
    <message>
        <source>Persistency</source>
        <translation>继续率</translation>
    </message>
    <message>
        <source>Persistency trend</source>
        <translation>继续率趋势</translation>
    </message>
    <message>
        <source>4-sell funnel</source>
        <translation>四步经营漏斗</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>活动量</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Coverage</source>
        <translation>覆盖情况</translation>
    </message>
    <message>
        <source>Writing the workbook</source>
        <translation>正在写出工作簿</translation>
    </message>
    <message>
        <source>Scorecard figures</source>
        <translation>月度考核数据</translation>
    </message>
    <message>
        <source>Gathering the visits and their routes</source>
        <translation>正在汇总拜访客户并排定路线</translation>
    </message>
    <message>
        <source>Writing the visit lists</source>
        <translation>正在写入拜访清单</translation>
    </message>
    <message>
        <source>{rows:,} rows read</source>
        <translation>已读取 {rows:,} 行</translation>
    </message>
    <message>
        <source>{rows:,} rows imported</source>
        <translation>已导入 {rows:,} 行</translation>
    </message>
    <message>
        <source>Copying {table}</source>
        <translation>正在复制 {table}</translation>
    </message>
    <message>
        <source>Writing {sheet}</source>
        <translation>正在写入 {sheet}</translation>
    </message>
    <message>
        <source>{name} ({employee_no})</source>
        <translation>{name}（{employee_no}）</translation>
    </message>
    <message>
        <source>nobody</source>
        <translation>无人</translation>
    </message>
    <message>
        <source>grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>customer</source>
        <translation>客户</translation>
    </message>
    <message>
        <source>customer rows</source>
        <translation>客户数据</translation>
    </message>
    <message>
        <source>task rows</source>
        <translation>任务数据</translation>
    </message>
    <message>
        <source>rebalance</source>
        <translation>均衡调整</translation>
    </message>
    <message>
        <source>import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>intake</source>
        <translation>入池</translation>
    </message>
    <message>
        <source>task</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>specialist {specialist}</source>
        <translation>专员 {specialist}</translation>
    </message>
    <message>
        <source>grid {grid}</source>
        <translation>网格 {grid}</translation>
    </message>
    <message>
        <source>scenario &quot;{name}&quot;</source>
        <translation>方案“{name}”</translation>
    </message>
    <message>
        <source>since this plan was made</source>
        <translation>自本方案生成以来</translation>
    </message>
    <message>
        <source>after that rebalance</source>
        <translation>在该次均衡调整之后</translation>
    </message>
    <message>
        <source>since that import</source>
        <translation>自该次导入以来</translation>
    </message>
    <message>
        <source>since that intake</source>
        <translation>自该次入池以来</translation>
    </message>
    <message>
        <source>at {time}</source>
        <translation>今天 {time}</translation>
    </message>
    <message>
        <source>on {day} at {time}</source>
        <translation>{day} {time}</translation>
    </message>
    <message>
        <source>plan</source>
        <translation>方案</translation>
    </message>
    <message>
        <source>specialist {n}</source>
        <translation>第 {n} 位专员</translation>
    </message>
    <message>
        <source>move {n}</source>
        <translation>第 {n} 项调动</translation>
    </message>
    <message>
        <source>an object</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>a list</source>
        <translation>列表</translation>
    </message>
    <message>
        <source>a non-empty text</source>
        <translation>非空文本</translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation>整数</translation>
    </message>
    <message>
        <source>a number</source>
        <translation>数字</translation>
    </message>
    <message>
        <source>the sms target</source>
        <translation>短信发送的目标天数</translation>
    </message>
    <message>
        <source>the contact target</source>
        <translation>首次联系的目标天数</translation>
    </message>
    <message>
        <source>the service target</source>
        <translation>首次服务的目标天数</translation>
    </message>
    <message>
        <source>the renewal standard</source>
        <translation>续收达成率标准</translation>
    </message>
    <message>
        <source>the persistency standard</source>
        <translation>13个月继续率标准</translation>
    </message>
    <message>
        <source>the tasks standard</source>
        <translation>任务按时完成率标准</translation>
    </message>
    <message>
        <source>the contact standard</source>
        <translation>首次建联及时率标准</translation>
    </message>
    <message>
        <source>Make a new proposal.</source>
        <translation>请重新生成方案。</translation>
    </message>
    <message>
        <source>It can no longer be undone as a whole.</source>
        <translation>已无法整体撤销。</translation>
    </message>
    <message>
        <source>The intake can no longer be undone as a whole.</source>
        <translation>该次入池已无法整体撤销。</translation>
    </message>
    <message>
        <source>The import can no longer be undone as a whole.</source>
        <translation>该次导入已无法整体撤销。</translation>
    </message>
    <message>
        <source>{name}&apos;s status was changed {since}</source>
        <translation>{since}，{name}的状态已被修改</translation>
    </message>
    <message>
        <source>{what} {label} is now with {holder}, a change made {since}</source>
        <translation>{since}，{what} {label} 已改由{holder}负责</translation>
    </message>
    <message>
        <source>{what} {label} was reassigned to {holder} by {actor} {when} {since}</source>
        <translation>{since}，{what} {label} 已由 {actor} 于 {when} 改派给{holder}</translation>
    </message>
    <message>
        <source>{changes}. {advice}</source>
        <translation>{changes}。{advice}</translation>
    </message>
    <message>
        <source>{changes}; and {more} more change(s). {advice}</source>
        <translation>{changes}；另有 {more} 处变动。{advice}</translation>
    </message>
    <message>
        <source>{what} was changed by someone else while saving; nothing was saved</source>
        <translation>保存时{what}已被他人修改；未保存任何内容</translation>
    </message>
    <message>
        <source>{rows} were changed by someone else while saving; nothing was saved</source>
        <translation>保存时部分{rows}已被他人修改；未保存任何内容</translation>
    </message>
    <message>
        <source>specialist {specialist} no longer exists</source>
        <translation>专员 {specialist} 已不存在</translation>
    </message>
    <message>
        <source>{who} is no longer active ({specialist_status})</source>
        <translation>{who}已不在岗（{specialist_status}）</translation>
    </message>
    <message>
        <source>grid {grid} no longer exists</source>
        <translation>网格 {grid} 已不存在</translation>
    </message>
    <message>
        <source>grid {grid} was locked {since}</source>
        <translation>{since}，网格 {grid} 已被锁定</translation>
    </message>
    <message>
        <source>grid {grid} was retired {since}</source>
        <translation>{since}，网格 {grid} 已停用</translation>
    </message>
    <message>
        <source>customer {customer} no longer exists</source>
        <translation>客户 {customer} 已不存在</translation>
    </message>
    <message>
        <source>customer {customer} was moved to another grid {since}</source>
        <translation>{since}，客户 {customer} 已被移到另一个网格</translation>
    </message>
    <message>
        <source>customer {customer} was locked {since}</source>
        <translation>{since}，客户 {customer} 已被锁定</translation>
    </message>
    <message>
        <source>customer {customer} reached 4-sell step {step}, which this plan keeps in place, {since}</source>
        <translation>{since}，客户 {customer} 已达到四步经营第 {step} 步，而本方案不调动这一步的客户</translation>
    </message>
    <message>
        <source>grid {grid} has {n} customer who joined it {since}: undone, they would stay apart from the grid&apos;s owner</source>
        <translation>{since}，网格 {grid} 新加入了 {n} 位客户：撤销后该客户会与网格负责人分开</translation>
    </message>
    <message>
        <source>grid {grid} has {n} customers who joined it {since}: undone, they would stay apart from the grid&apos;s owner</source>
        <translation>{since}，网格 {grid} 新加入了 {n} 位客户：撤销后这些客户会与网格负责人分开</translation>
    </message>
    <message>
        <source>{what} {label} changed hands {since}</source>
        <translation>{since}，{what} {label} 的负责人已变更</translation>
    </message>
    <message>
        <source>this change touches {people}, outside your teams; only a senior supervisor of the branch may make it</source>
        <translation>此变更涉及您团队以外的{people}：只有本机构的资深主管可以进行</translation>
    </message>
    <message>
        <source>this change touches {people} and {more} more, outside your teams; only a senior supervisor of the branch may make it</source>
        <translation>此变更涉及您团队以外的{people}及另外 {more} 人：只有本机构的资深主管可以进行</translation>
    </message>
    <message>
        <source>specialist {specialist} does not exist</source>
        <translation>专员 {specialist} 不存在</translation>
    </message>
    <message>
        <source>customer {customer} does not exist</source>
        <translation>客户 {customer} 不存在</translation>
    </message>
    <message>
        <source>grid {grid} does not exist</source>
        <translation>网格 {grid} 不存在</translation>
    </message>
    <message>
        <source>branch {branch} does not exist</source>
        <translation>机构 {branch} 不存在</translation>
    </message>
    <message>
        <source>a branch code has 1 to {maximum} characters and no spaces</source>
        <translation>机构代码须为 1 至 {maximum} 个字符，且不含空格</translation>
    </message>
    <message>
        <source>a branch name has 1 to {maximum} characters</source>
        <translation>机构名称须为 1 至 {maximum} 个字符</translation>
    </message>
    <message>
        <source>this database already holds a branch</source>
        <translation>此数据库中已有机构</translation>
    </message>
    <message>
        <source>the plan has no moves to apply</source>
        <translation>方案中没有可执行的调动</translation>
    </message>
    <message>
        <source>the hand-over moves nothing of the specialist who leaves</source>
        <translation>交接方案没有调动离职专员的任何工作</translation>
    </message>
    <message>
        <source>the plan was made for branch {branch}, not yours; only its own supervisors may apply it</source>
        <translation>该方案是为机构 {branch} 生成的，不是您的机构；只有该机构自己的主管可以执行它</translation>
    </message>
    <message>
        <source>the plan was made for branch {branch}, which is not in this database</source>
        <translation>该方案是为机构 {branch} 生成的，而本数据库中没有这个机构</translation>
    </message>
    <message>
        <source>the plan was made on another database (specialist ids differ)</source>
        <translation>该方案是在另一个数据库上生成的（专员的内部编号不一致）</translation>
    </message>
    <message>
        <source>the plan was made on another database (grid ids differ)</source>
        <translation>该方案是在另一个数据库上生成的（网格的内部编号不一致）</translation>
    </message>
    <message>
        <source>moving {grid} from {source} to {target} crosses teams; only a senior supervisor may do that</source>
        <translation>把 {grid} 从{source}调给{target}跨越了团队；只有资深主管可以这样调动</translation>
    </message>
    <message>
        <source>the plan moves the same grid twice</source>
        <translation>方案把同一个网格调动了两次</translation>
    </message>
    <message>
        <source>customer {customer} is moved on their own and with grid {grid}</source>
        <translation>客户 {customer} 既被单独调动，又随网格 {grid} 一起调动</translation>
    </message>
    <message>
        <source>keep customers from a 4-sell step 1 to 4, not {step}</source>
        <translation>保留客户的四步经营阶段须为第 1 至 4 步，而不是 {step}</translation>
    </message>
    <message>
        <source>{specialist} is not one of the specialists this plan covers</source>
        <translation>{specialist} 不在本方案涉及的专员之列</translation>
    </message>
    <message>
        <source>{specialist} may not take work in this plan</source>
        <translation>{specialist} 在本方案中不能接收工作</translation>
    </message>
    <message>
        <source>grid {grid} is outside this plan&apos;s scope</source>
        <translation>网格 {grid} 不在本方案的范围内</translation>
    </message>
    <message>
        <source>grid {grid} is locked: it stays with its owner</source>
        <translation>网格 {grid} 已锁定：留在原负责人名下</translation>
    </message>
    <message>
        <source>giving {grid} from {source} to {target} crosses teams; only a senior supervisor may do that</source>
        <translation>把 {grid} 从 {source} 交给 {target} 跨越了团队；只有资深主管可以这样调动</translation>
    </message>
    <message>
        <source>move {move} already comes from {specialist}</source>
        <translation>第 {move} 项调动本来就是从 {specialist} 调出的</translation>
    </message>
    <message>
        <source>there is no other active specialist in scope to take over from {leaver}</source>
        <translation>范围内没有其他在岗专员可以接手 {leaver} 的工作</translation>
    </message>
    <message>
        <source>{leaver} is the one leaving; their customers go to someone else</source>
        <translation>{leaver} 就是离职的专员；其客户须交给其他人</translation>
    </message>
    <message>
        <source>{specialist} is not an active specialist in scope</source>
        <translation>{specialist} 不是范围内的在岗专员</translation>
    </message>
    <message>
        <source>giving {leaver}&apos;s customers to {target} crosses teams; only a senior supervisor may do that</source>
        <translation>把 {leaver} 的客户交给{target}跨越了团队；只有资深主管可以这样做</translation>
    </message>
    <message>
        <source>the hand-over leaves behind no customer of {leaver}</source>
        <translation>交接方案没有留下 {leaver} 的任何客户</translation>
    </message>
    <message>
        <source>{what} {batch} was undone by someone else meanwhile</source>
        <translation>{what} {batch} 已在此期间被他人撤销</translation>
    </message>
    <message>
        <source>there is no rebalance to undo</source>
        <translation>没有可撤销的均衡调整</translation>
    </message>
    <message>
        <source>change batch {batch} was already undone</source>
        <translation>变更批次 {batch} 已经撤销过了</translation>
    </message>
    <message>
        <source>change batch {batch} belongs to another branch</source>
        <translation>变更批次 {batch} 属于其他机构</translation>
    </message>
    <message>
        <source>change batch {batch} is not one that can be undone</source>
        <translation>变更批次 {batch} 不能撤销</translation>
    </message>
    <message>
        <source>give the scenario a name</source>
        <translation>请为方案起个名称</translation>
    </message>
    <message>
        <source>a scenario&apos;s name has at most {maximum} characters</source>
        <translation>方案名称最多 {maximum} 个字符</translation>
    </message>
    <message>
        <source>the plan was made for branch {branch}, not yours</source>
        <translation>该方案是为机构 {branch} 生成的，不是您的机构</translation>
    </message>
    <message>
        <source>the plan was made on another database (its teams are not here)</source>
        <translation>该方案是在另一个数据库上生成的（本数据库中没有它的团队）</translation>
    </message>
    <message>
        <source>a supervisor keeps scenarios of their own team only: propose for one of your teams, then keep it</source>
        <translation>主管只能保存本人团队的方案：请先为您的某个团队生成方案，再保存</translation>
    </message>
    <message>
        <source>a scenario named &quot;{name}&quot; exists already: choose another name</source>
        <translation>已有名为“{name}”的方案：请换一个名称</translation>
    </message>
    <message>
        <source>compare a scenario with another one, or with today</source>
        <translation>请将方案与另一个方案对比，或与当前情况对比</translation>
    </message>
    <message>
        <source>there is no scenario named &quot;{name}&quot; you may see</source>
        <translation>没有您可查看的、名为“{name}”的方案</translation>
    </message>
    <message>
        <source>scenario &quot;{name}&quot;: its plan cannot be read</source>
        <translation>方案“{name}”：其内容无法读取</translation>
    </message>
    <message>
        <source>{day} is not after today ({today}): apply the plan now instead</source>
        <translation>{day} 不晚于今天（{today}）：请改为立即执行方案</translation>
    </message>
    <message>
        <source>scheduled plan {plan} is {plan_status} already: nothing to cancel</source>
        <translation>预定方案 {plan} 已是“{plan_status}”状态：无需取消</translation>
    </message>
    <message>
        <source>scheduled plan {plan} (from {day}) moves some of the same grids or customers: cancel it first, or take them out of this plan</source>
        <translation>预定方案 {plan}（{day} 生效）也调动了其中部分网格或客户：请先取消该方案，或从本方案中去掉这些调动</translation>
    </message>
    <message>
        <source>there is no scheduled plan {plan} you may see</source>
        <translation>没有您可查看的预定方案 {plan}</translation>
    </message>
    <message>
        <source>{file}: no such plan file</source>
        <translation>{file}：没有这个方案文件</translation>
    </message>
    <message>
        <source>{file}: not a text file (a plan is UTF-8 JSON)</source>
        <translation>{file}：不是文本文件（方案文件是 UTF-8 编码的 JSON）</translation>
    </message>
    <message>
        <source>{file}: not valid JSON (line {line}, column {column}: {problem})</source>
        <translation>{file}：不是有效的 JSON（第 {line} 行第 {column} 列：{problem}）</translation>
    </message>
    <message>
        <source>{source}: not a GridDesk rebalancing plan (no &quot;format&quot;: &quot;{format}&quot;)</source>
        <translation>{source}：不是 GridDesk 的均衡调整方案（没有 &quot;format&quot;: &quot;{format}&quot;）</translation>
    </message>
    <message>
        <source>{source}: plan format version {version} is not supported (this GridDesk reads version {supported})</source>
        <translation>{source}：不支持方案格式版本 {version}（此版本的 GridDesk 读取第 {supported} 版）</translation>
    </message>
    <message>
        <source>{source}: &quot;scope&quot; must be &quot;branch&quot; or {{&quot;teams&quot;: [...]}}</source>
        <translation>{source}：&quot;scope&quot; 须为 &quot;branch&quot; 或 {{&quot;teams&quot;: [...]}}</translation>
    </message>
    <message>
        <source>{source}: {where}: &quot;kind&quot; must be &quot;grid&quot; or &quot;customer&quot;, not {kind}</source>
        <translation>{source}：{where}：&quot;kind&quot; 须为 &quot;grid&quot; 或 &quot;customer&quot;，而不是 {kind}</translation>
    </message>
    <message>
        <source>{source}: {where}: specialist {specialist} is not in the plan&apos;s list</source>
        <translation>{source}：{where}：专员 {specialist} 不在方案的专员列表中</translation>
    </message>
    <message>
        <source>{source}: {where}: moves from {specialist} to the same person</source>
        <translation>{source}：{where}：从 {specialist} 调给了同一个人</translation>
    </message>
    <message>
        <source>{source}: &quot;grid_customers&quot; of grid {grid} must be a list of ids</source>
        <translation>{source}：网格 {grid} 的 &quot;grid_customers&quot; 须为编号列表</translation>
    </message>
    <message>
        <source>{source}: {where}: grid {grid} has no base version</source>
        <translation>{source}：{where}：网格 {grid} 没有基准版本</translation>
    </message>
    <message>
        <source>{source}: {where}: customer {customer} has no base version</source>
        <translation>{source}：{where}：客户 {customer} 没有基准版本</translation>
    </message>
    <message>
        <source>{source}: a date in the plan cannot be read ({problem})</source>
        <translation>{source}：方案中的日期无法读取（{problem}）</translation>
    </message>
    <message>
        <source>{source}: &quot;max_moves&quot; must be a whole number or null</source>
        <translation>{source}：&quot;max_moves&quot; 须为整数或 null</translation>
    </message>
    <message>
        <source>{source}: &quot;max_distance_km&quot; must be a number or null</source>
        <translation>{source}：&quot;max_distance_km&quot; 须为数字或 null</translation>
    </message>
    <message>
        <source>{source}: &quot;keep_from_step&quot; must be a 4-sell step from 1 to 4, or null</source>
        <translation>{source}：&quot;keep_from_step&quot; 须为四步经营的第 1 至 4 步，或 null</translation>
    </message>
    <message>
        <source>{source}: &quot;move_costs&quot; must give &quot;by_step&quot; (five numbers), &quot;recent_days&quot; and &quot;recent_factor&quot;</source>
        <translation>{source}：&quot;move_costs&quot; 须给出 &quot;by_step&quot;（五个数字）、&quot;recent_days&quot; 和 &quot;recent_factor&quot;</translation>
    </message>
    <message>
        <source>{source}: {where}: &quot;{key}&quot; must be {wanted}</source>
        <translation>{source}：{where}：&quot;{key}&quot; 须为{wanted}</translation>
    </message>
    <message>
        <source>{source}: {where} must be an object</source>
        <translation>{source}：{where} 须为对象</translation>
    </message>
    <message>
        <source>{source}: {where}: &quot;{key}&quot; is missing</source>
        <translation>{source}：{where}：缺少 &quot;{key}&quot;</translation>
    </message>
    <message>
        <source>{source}: {where}: key &quot;{key}&quot; is not an id</source>
        <translation>{source}：{where}：键 &quot;{key}&quot; 不是编号</translation>
    </message>
    <message>
        <source>{source}: {where}.{key}: the version of {id} is not a number</source>
        <translation>{source}：{where}.{key}：{id} 的版本号不是数字</translation>
    </message>
    <message>
        <source>only a senior supervisor runs an intake</source>
        <translation>只有资深主管可以执行入池</translation>
    </message>
    <message>
        <source>only a senior supervisor undoes an intake, as only they run one</source>
        <translation>只有资深主管可以撤销入池，因为入池只能由资深主管执行</translation>
    </message>
    <message>
        <source>no departed agent with code &apos;{agent}&apos;</source>
        <translation>没有代码为“{agent}”的离职代理人</translation>
    </message>
    <message>
        <source>customer {customer} was put in a grid meanwhile; reload the queue</source>
        <translation>客户 {customer} 已在此期间被归入网格；请刷新队列</translation>
    </message>
    <message>
        <source>only a senior supervisor files unmatched addresses</source>
        <translation>只有资深主管可以为未匹配的地址指定网格</translation>
    </message>
    <message>
        <source>grid {grid} belongs to another branch</source>
        <translation>网格 {grid} 属于其他机构</translation>
    </message>
    <message>
        <source>grid {grid} is retired</source>
        <translation>网格 {grid} 已停用</translation>
    </message>
    <message>
        <source>customer {customer} or grid {grid} does not exist</source>
        <translation>客户 {customer} 或网格 {grid} 不存在</translation>
    </message>
    <message>
        <source>the rule &apos;{rule}&apos; is too short: give at least {minimum} characters</source>
        <translation>规则“{rule}”太短：至少需要 {minimum} 个字</translation>
    </message>
    <message>
        <source>the rule &apos;{rule}&apos; does not occur in the customer&apos;s address as matching reads it (without spaces, punctuation and the province and city)</source>
        <translation>规则“{rule}”没有出现在客户地址中（按匹配时的读法：去掉空格、标点以及省和市）</translation>
    </message>
    <message>
        <source>grid {grid} lies in {grid_district} and the address in {district}: a rule may only send addresses to a grid of their own district</source>
        <translation>网格 {grid} 位于{grid_district}，而该地址位于{district}：规则只能把地址归入其所在区县的网格</translation>
    </message>
    <message>
        <source>the rule must contain the address&apos;s community &apos;{community}&apos;: &apos;{rule}&apos; would send other communities&apos; addresses to grid {grid} too</source>
        <translation>规则须包含该地址所在的社区“{community}”：“{rule}”会把其他社区的地址也归入网格 {grid}</translation>
    </message>
    <message>
        <source>the rule &apos;{rule}&apos; would also send addresses in {places} to grid {grid}</source>
        <translation>规则“{rule}”还会把{places}的地址归入网格 {grid}</translation>
    </message>
    <message>
        <source>the rule &apos;{rule}&apos; would also send addresses of {places} to grid {grid}</source>
        <translation>规则“{rule}”还会把{places}的地址归入网格 {grid}</translation>
    </message>
    <message>
        <source>the rule &apos;{rule}&apos; already sends addresses to grid {grid}</source>
        <translation>规则“{rule}”已把地址归入网格 {grid}</translation>
    </message>
    <message>
        <source>choose why the address is outside coverage: one of {choices}</source>
        <translation>请选择地址不在覆盖范围的原因：{choices} 之一</translation>
    </message>
    <message>
        <source>say in the note why the address is outside coverage</source>
        <translation>请在备注中说明地址不在覆盖范围的原因</translation>
    </message>
    <message>
        <source>the note is too long: at most {maximum} characters</source>
        <translation>备注太长：最多 {maximum} 个字</translation>
    </message>
    <message>
        <source>customer {customer} is not in the pool; reload the queue</source>
        <translation>客户 {customer} 不在客户池中；请刷新队列</translation>
    </message>
    <message>
        <source>customer {customer} is marked outside coverage already; reload the queue</source>
        <translation>客户 {customer} 已被标记为不在覆盖范围；请刷新队列</translation>
    </message>
    <message>
        <source>customer {customer} is not marked outside coverage (any more); reload the list</source>
        <translation>客户 {customer} 并未（或已不再）标记为不在覆盖范围；请刷新列表</translation>
    </message>
    <message>
        <source>only a senior supervisor marks addresses outside coverage</source>
        <translation>只有资深主管可以把地址标记为不在覆盖范围</translation>
    </message>
    <message>
        <source>only a senior supervisor puts addresses back in the unmatched queue</source>
        <translation>只有资深主管可以把地址放回未匹配队列</translation>
    </message>
    <message>
        <source>no customer chosen</source>
        <translation>没有选择客户</translation>
    </message>
    <message>
        <source>customers {customers} do not exist; nothing was changed</source>
        <translation>客户 {customers} 不存在；未做任何更改</translation>
    </message>
    <message>
        <source>only a senior supervisor undoes an imported history, as only they import</source>
        <translation>只有资深主管可以撤销导入的分配历史，因为导入只能由资深主管执行</translation>
    </message>
    <message>
        <source>{file} was not imported, nothing was changed:
{problems}</source>
        <translation>{file} 未导入，未做任何更改：
{problems}</translation>
    </message>
    <message>
        <source>the file</source>
        <translation>该文件</translation>
    </message>
    <message>
        <source>{where}: {message}</source>
        <translation>{where}：{message}</translation>
    </message>
    <message>
        <source>row {row}</source>
        <translation>第 {row} 行</translation>
    </message>
    <message>
        <source>feature {row}</source>
        <translation>第 {row} 个要素</translation>
    </message>
    <message>
        <source>column {column}</source>
        <translation>{column} 列</translation>
    </message>
    <message>
        <source>… and {n} more problem</source>
        <translation>……另有 {n} 个问题</translation>
    </message>
    <message>
        <source>… and {n} more problems</source>
        <translation>……另有 {n} 个问题</translation>
    </message>
    <message>
        <source>(checking stopped after {n} problems)</source>
        <translation>（发现 {n} 个问题后停止检查）</translation>
    </message>
    <message>
        <source>unknown kind &apos;{kind}&apos;: choose one of {choices}</source>
        <translation>没有“{kind}”这种文件类型：请选择 {choices} 之一</translation>
    </message>
    <message>
        <source>this database holds several branches: say which one to import into (--branch CODE)</source>
        <translation>此数据库中有多个机构：请指明导入到哪一个（--branch 代码）</translation>
    </message>
    <message>
        <source>required column missing: write {names} in the header row (headers found: {headers})</source>
        <translation>缺少必需的列：请在表头中写出 {names}（找到的表头：{headers}）</translation>
    </message>
    <message>
        <source>required column missing: write {names}, in the header row (headers found: {headers})</source>
        <translation>缺少必需的列：请在表头中写出 {names}（找到的表头：{headers}）</translation>
    </message>
    <message>
        <source>{name} or {zh}</source>
        <translation>{name} 或 {zh}</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>is neither UTF-8 nor GBK/GB18030 text</source>
        <translation>既不是 UTF-8 也不是 GBK/GB18030 编码的文本</translation>
    </message>
    <message>
        <source>does not exist</source>
        <translation>文件不存在</translation>
    </message>
    <message>
        <source>is a folder, not a file</source>
        <translation>是文件夹，不是文件</translation>
    </message>
    <message>
        <source>cannot be opened ({problem})</source>
        <translation>无法打开（{problem}）</translation>
    </message>
    <message>
        <source>is empty</source>
        <translation>文件为空</translation>
    </message>
    <message>
        <source>is not a valid .xlsx workbook (save it again from Excel as .xlsx)</source>
        <translation>不是有效的 .xlsx 工作簿（请在 Excel 中重新另存为 .xlsx）</translation>
    </message>
    <message>
        <source>is an old .xls workbook: save it from Excel as .xlsx or .csv</source>
        <translation>是旧版 .xls 工作簿：请在 Excel 中另存为 .xlsx 或 .csv</translation>
    </message>
    <message>
        <source>is not a text (CSV) or Excel (.xlsx) file</source>
        <translation>既不是文本（CSV）文件，也不是 Excel（.xlsx）文件</translation>
    </message>
    <message>
        <source>has bytes that are not {encoding} text after row {row}: save the whole file in one encoding (UTF-8 or GBK)</source>
        <translation>第 {row} 行之后有不是 {encoding} 文本的字节：请把整个文件保存为同一种编码（UTF-8 或 GBK）</translation>
    </message>
    <message>
        <source>is not well-formed CSV at row {row}: {problem}</source>
        <translation>第 {row} 行不是格式正确的 CSV：{problem}</translation>
    </message>
    <message>
        <source>is not a readable .xlsx workbook ({problem})</source>
        <translation>不是可读取的 .xlsx 工作簿（{problem}）</translation>
    </message>
    <message>
        <source>is too large to read: its part {part} would unpack to {mb} MB, and at most {maximum} MB is read from a workbook; save it as CSV instead</source>
        <translation>太大，无法读取：其中的部件 {part} 解压后有 {mb} MB，而工作簿最多读取 {maximum} MB；请改存为 CSV</translation>
    </message>
    <message>
        <source>is too large to read: sheet &apos;{sheet}&apos; claims {rows:,} rows × {columns:,} columns, and at most {maximum:,} cells are read from a workbook; save it as CSV instead</source>
        <translation>太大，无法读取：工作表“{sheet}”声明有 {rows:,} 行 × {columns:,} 列，而工作簿最多读取 {maximum:,} 个单元格；请改存为 CSV</translation>
    </message>
    <message>
        <source>has a row {row:,}, beyond row {last:,}, the last Excel has</source>
        <translation>有第 {row:,} 行，超出了 Excel 的最后一行（第 {last:,} 行）</translation>
    </message>
    <message>
        <source>is too large to read: more than {maximum:,} cells by row {row:,}; save it as CSV instead</source>
        <translation>太大，无法读取：到第 {row:,} 行已超过 {maximum:,} 个单元格；请改存为 CSV</translation>
    </message>
    <message>
        <source>is a workbook without sheets</source>
        <translation>是没有工作表的工作簿</translation>
    </message>
    <message>
        <source>is not a GeoJSON text file (UTF-8)</source>
        <translation>不是 GeoJSON 文本文件（UTF-8）</translation>
    </message>
    <message>
        <source>is not valid GeoJSON: {problem} at line {line}, column {column}</source>
        <translation>不是有效的 GeoJSON：第 {line} 行第 {column} 列：{problem}</translation>
    </message>
    <message>
        <source>is not a GeoJSON FeatureCollection</source>
        <translation>不是 GeoJSON 要素集合（FeatureCollection）</translation>
    </message>
    <message>
        <source>has no list of features</source>
        <translation>没有要素列表</translation>
    </message>
    <message>
        <source>{problem}</source>
        <translation>{problem}</translation>
    </message>
    <message>
        <source>{problem} (and {more} more problems)</source>
        <translation>{problem}（另有 {more} 个问题）</translation>
    </message>
    <message>
        <source>the file could not be read</source>
        <translation>无法读取该文件</translation>
    </message>
    <message>
        <source>the file is neither UTF-8 nor GBK text</source>
        <translation>该文件既不是 UTF-8 也不是 GBK 编码的文本</translation>
    </message>
    <message>
        <source>the file is empty</source>
        <translation>该文件为空</translation>
    </message>
    <message>
        <source>this column is missing (the header row names it)</source>
        <translation>缺少这一列（应在表头中写明）</translation>
    </message>
    <message>
        <source>your role may not reassign tasks</source>
        <translation>您的角色不能改派任务</translation>
    </message>
    <message>
        <source>{name} works in another branch</source>
        <translation>{name}在其他机构工作</translation>
    </message>
    <message>
        <source>{who} is not active</source>
        <translation>{who}不在岗</translation>
    </message>
    <message>
        <source>{name} is not in your team</source>
        <translation>{name}不在您的团队中</translation>
    </message>
    <message>
        <source>{n} of the selected tasks no longer exist</source>
        <translation>所选任务中有 {n} 个已不存在</translation>
    </message>
    <message>
        <source>tasks of another branch: {tasks}</source>
        <translation>属于其他机构的任务：{tasks}</translation>
    </message>
    <message>
        <source>{n} task(s) were changed by someone else since you loaded them ({tasks}); reload and try again</source>
        <translation>自您载入以来，有 {n} 个任务已被他人修改（{tasks}）；请刷新后重试</translation>
    </message>
    <message>
        <source>{n} task(s) were changed by someone else since you loaded them ({tasks}…); reload and try again</source>
        <translation>自您载入以来，有 {n} 个任务已被他人修改（{tasks}…）；请刷新后重试</translation>
    </message>
    <message>
        <source>only open tasks can be reassigned; closed: {tasks}</source>
        <translation>只能改派未完成的任务；已关闭的任务：{tasks}</translation>
    </message>
    <message>
        <source>tasks outside your team: {tasks}</source>
        <translation>不属于您团队的任务：{tasks}</translation>
    </message>
    <message>
        <source>&apos;{url}&apos; is not a database URL. Use sqlite:///path/to/file.db or postgresql://user:password@host:5432/dbname.</source>
        <translation>“{url}”不是数据库地址。请使用 sqlite:///文件路径.db 或 postgresql://用户名:密码@主机:5432/数据库名。</translation>
    </message>
    <message>
        <source>database &apos;{backend}&apos; is not supported: GridDesk runs on SQLite or PostgreSQL.</source>
        <translation>不支持数据库“{backend}”：GridDesk 只能使用 SQLite 或 PostgreSQL。</translation>
    </message>
    <message>
        <source>{path} does not exist</source>
        <translation>{path} 不存在</translation>
    </message>
    <message>
        <source>no database at {path}: create one with &apos;griddesk init&apos;</source>
        <translation>{path} 处没有数据库：请先用“griddesk init”创建</translation>
    </message>
    <message>
        <source>{path} is not a GridDesk database; GridDesk leaves it alone</source>
        <translation>{path} 不是 GridDesk 数据库，GridDesk 不会改动它</translation>
    </message>
    <message>
        <source>{label} is an offline copy, which is read-only: make the change in the branch&apos;s database</source>
        <translation>{label} 是离线副本，只能查看：请在机构的数据库中修改</translation>
    </message>
    <message>
        <source>{label} has no GridDesk schema yet: run &apos;griddesk init&apos;</source>
        <translation>{label} 还没有 GridDesk 的数据表：请运行“griddesk init”</translation>
    </message>
    <message>
        <source>{label} has an older schema: run &apos;griddesk init&apos; to migrate it</source>
        <translation>{label} 的数据表是旧版本：请运行“griddesk init”升级</translation>
    </message>
    <message>
        <source>{label} has an older schema: its owner must run &apos;griddesk init&apos; on it</source>
        <translation>{label} 的数据表是旧版本：须由数据库所有者运行“griddesk init”升级</translation>
    </message>
    <message>
        <source>wrong user name or password</source>
        <translation>用户名或密码错误</translation>
    </message>
    <message>
        <source>too many wrong passwords for {login}: the account is locked, try again in {minutes} minute</source>
        <translation>{login} 的密码错误次数过多：账户已锁定，请 {minutes} 分钟后再试</translation>
    </message>
    <message>
        <source>too many wrong passwords for {login}: the account is locked, try again in {minutes} minutes</source>
        <translation>{login} 的密码错误次数过多：账户已锁定，请 {minutes} 分钟后再试</translation>
    </message>
    <message>
        <source>the user name &apos;{login}&apos; cannot be a database role: it holds &apos;:&apos;</source>
        <translation>用户名“{login}”不能用作数据库角色：其中含有“:”</translation>
    </message>
    <message>
        <source>the user name &apos;{login}&apos; is too long for a database role: with the database&apos;s name &apos;{database}&apos; it may take {maximum} bytes</source>
        <translation>用户名“{login}”用作数据库角色太长：加上数据库名“{database}”，最多只能占 {maximum} 个字节</translation>
    </message>
    <message>
        <source>database roles are for a shared PostgreSQL database; a SQLite file is one person&apos;s, and GridDesk checks each role itself there</source>
        <translation>数据库角色只用于共享的 PostgreSQL 数据库；SQLite 文件供个人使用，角色权限由 GridDesk 自行检查</translation>
    </message>
    <message>
        <source>{login} is the branch&apos;s last active senior supervisor: add another senior supervisor before deactivating this account</source>
        <translation>{login} 是本机构最后一位在用的资深主管：请先添加另一位资深主管，再停用此账户</translation>
    </message>
    <message>
        <source>{login} ({role}) may not manage user accounts: only a senior supervisor may</source>
        <translation>{login}（{role}）不能管理用户账户：只有资深主管可以</translation>
    </message>
    <message>
        <source>there is no user &apos;{login}&apos;</source>
        <translation>没有用户“{login}”</translation>
    </message>
    <message>
        <source>{login} is a user of another branch: only its own senior supervisor may change it</source>
        <translation>{login} 是其他机构的用户：只有该机构自己的资深主管可以修改</translation>
    </message>
    <message>
        <source>you may add users to your own branch only, not to &apos;{branch}&apos;</source>
        <translation>您只能为本机构添加用户，不能添加到“{branch}”</translation>
    </message>
    <message>
        <source>this database has users: sign in as a senior supervisor to add one</source>
        <translation>此数据库已有用户：请以资深主管身份登录后再添加</translation>
    </message>
    <message>
        <source>the first account of a database must be a senior supervisor</source>
        <translation>数据库的第一个账户必须是资深主管</translation>
    </message>
    <message>
        <source>there is no branch &apos;{branch}&apos;</source>
        <translation>没有机构“{branch}”</translation>
    </message>
    <message>
        <source>this database holds no branch yet: import the branch&apos;s teams first</source>
        <translation>此数据库中还没有机构：请先导入机构的团队</translation>
    </message>
    <message>
        <source>this database holds several branches: say which (--branch CODE)</source>
        <translation>此数据库中有多个机构：请指明是哪一个（--branch 代码）</translation>
    </message>
    <message>
        <source>&apos;{login}&apos; cannot be a user name: 1 to {maximum} characters without spaces</source>
        <translation>“{login}”不能用作用户名：须为 1 至 {maximum} 个字符，且不含空格</translation>
    </message>
    <message>
        <source>the user name &apos;{login}&apos; is taken</source>
        <translation>用户名“{login}”已被占用</translation>
    </message>
    <message>
        <source>a display name has 1 to {maximum} characters</source>
        <translation>姓名须为 1 至 {maximum} 个字符</translation>
    </message>
    <message>
        <source>&apos;{value}&apos; is not a role: choose {choices}</source>
        <translation>“{value}”不是角色：请选择 {choices}</translation>
    </message>
    <message>
        <source>only a supervisor is limited to teams: a senior supervisor or an analyst sees the whole branch</source>
        <translation>只有主管需要指定团队：资深主管和分析员可以查看全机构</translation>
    </message>
    <message>
        <source>a supervisor needs at least one team of the branch</source>
        <translation>主管至少需要负责本机构的一个团队</translation>
    </message>
    <message>
        <source>the branch has no team {teams}</source>
        <translation>本机构没有团队 {teams}</translation>
    </message>
    <message>
        <source>a password needs at least {minimum} characters</source>
        <translation>密码至少需要 {minimum} 个字符</translation>
    </message>
    <message>
        <source>{login} ({role}) may not change the branch&apos;s settings: only its senior supervisor may</source>
        <translation>{login}（{role}）不能修改机构设置：只有本机构的资深主管可以</translation>
    </message>
    <message>
        <source>the amount limit must be between 1 and {maximum:,} yuan, not {yuan:,}</source>
        <translation>金额上限须在 1 至 {maximum:,} 元之间，而不是 {yuan:,} 元</translation>
    </message>
    <message>
        <source>{target} must be between 0 and {maximum} days, not {days}</source>
        <translation>{target}须在 0 至 {maximum} 天之间，而不是 {days}</translation>
    </message>
    <message>
        <source>the targets must come in order: SMS sent, then first contact, then first service ({sms}, {contact}, {service} days given)</source>
        <translation>目标天数须依次递增：先发送短信，再首次联系，再首次服务（现为 {sms}、{contact}、{service} 天）</translation>
    </message>
    <message>
        <source>{standard} must be 0 to 100 %, not {pct}</source>
        <translation>{standard}须在 0 至 100% 之间，而不是 {pct}</translation>
    </message>
    <message>
        <source>cannot group by &apos;{by}&apos;: choose one of {choices}</source>
        <translation>不能按“{by}”分组：请选择 {choices} 之一</translation>
    </message>
    <message>
        <source>&apos;{text}&apos;: month must be 01 to 12</source>
        <translation>“{text}”：月份须为 01 至 12</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is not a period: write a month (2024-03), a quarter (2024-Q1) or a year (2024)</source>
        <translation>“{text}”不是有效的期间：请写成月份（2024-03）、季度（2024-Q1）或年份（2024）</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is not a week: write 2025-W49 or a day such as 2025-12-01</source>
        <translation>“{text}”不是有效的周次：请写成 2025-W49，或写一个日期，例如 2025-12-01</translation>
    </message>
    <message>
        <source>{day} is not a Monday</source>
        <translation>{day} 不是星期一</translation>
    </message>
    <message>
        <source>{login} belongs to branch &apos;{own}&apos;, not &apos;{branch}&apos;</source>
        <translation>{login} 属于机构“{own}”，而不是“{branch}”</translation>
    </message>
    <message>
        <source>no branch with code &apos;{branch}&apos; in this database</source>
        <translation>此数据库中没有代码为“{branch}”的机构</translation>
    </message>
    <message>
        <source>the database holds no branch yet</source>
        <translation>数据库中还没有机构</translation>
    </message>
    <message>
        <source>the database holds several branches: say which one with --branch CODE</source>
        <translation>数据库中有多个机构：请用 --branch 代码 指明是哪一个</translation>
    </message>
    <message>
        <source>{login} sees only their own team: use --scope team:CODE or specialist:EMPNO</source>
        <translation>{login} 只能查看本人的团队：请使用 --scope team:团队代码 或 specialist:工号</translation>
    </message>
    <message>
        <source>no team with code &apos;{team}&apos; in this branch</source>
        <translation>本机构没有代码为“{team}”的团队</translation>
    </message>
    <message>
        <source>team &apos;{team}&apos; is not one of your teams</source>
        <translation>团队“{team}”不是您负责的团队</translation>
    </message>
    <message>
        <source>no specialist with employee number &apos;{specialist}&apos; in this branch</source>
        <translation>本机构没有工号为“{specialist}”的专员</translation>
    </message>
    <message>
        <source>specialist &apos;{specialist}&apos; is not in your team</source>
        <translation>专员“{specialist}”不在您的团队中</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is not a scope: write branch, team:CODE or specialist:EMPNO</source>
        <translation>“{text}”不是有效的范围：请写成 branch、team:团队代码 或 specialist:工号</translation>
    </message>
    <message>
        <source>{file}: the file name must end with {suffix}</source>
        <translation>{file}：文件名须以 {suffix} 结尾</translation>
    </message>
    <message>
        <source>{file}: the file name must end with {suffixes} or {last}</source>
        <translation>{file}：文件名须以 {suffixes} 或 {last} 结尾</translation>
    </message>
    <message>
        <source>{target} is a folder, not a file name</source>
        <translation>{target} 是文件夹，不是文件名</translation>
    </message>
    <message>
        <source>cannot write {target}: the folder {folder} does not exist</source>
        <translation>无法写入 {target}：文件夹 {folder} 不存在</translation>
    </message>
    <message>
        <source>cannot write {target}: {problem}</source>
        <translation>无法写入 {target}：{problem}</translation>
    </message>
    <message>
        <source>unknown table &apos;{table}&apos;: choose from {choices}</source>
        <translation>没有“{table}”这张表：请从 {choices} 中选择</translation>
    </message>
    <message>
        <source>a CSV file holds one table: choose one of customers, policies or tasks</source>
        <translation>一个 CSV 文件只能容纳一张表：请从客户、保单、任务中选择一张</translation>
    </message>
    <message>
        <source>cannot write a table as &apos;{suffix}&apos;: use .xlsx or .csv</source>
        <translation>无法把表格写成“{suffix}”：请使用 .xlsx 或 .csv</translation>
    </message>
    <message>
        <source>{rows:,} rows do not fit in one Excel sheet ({maximum:,} at most): export as CSV instead</source>
        <translation>{rows:,} 行超出了一张 Excel 工作表的容量（最多 {maximum:,} 行）：请改为导出 CSV</translation>
    </message>
    <message>
        <source>an offline copy can hold only your own teams</source>
        <translation>离线副本只能包含您自己的团队</translation>
    </message>
    <message>
        <source>the copy is inconsistent: {n} rows refer to rows outside the scope</source>
        <translation>副本不一致：有 {n} 行引用了范围以外的数据</translation>
    </message>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
    <message>
        <source>, or </source>
        <translation>，或</translation>
    </message>
</context>
<context>
    <name>sms</name>
    <message>
        <source>SMS: %1 queued, %2 replaced, %3 withdrawn</source>
        <translation>短信：新排队 %1 条，替换 %2 条，撤回 %3 条</translation>
    </message>
</context>
<context>
    <name>startup</name>
    <message>
        <source>GridDesk cannot start</source>
        <translation>GridDesk 无法启动</translation>
    </message>
    <message>
        <source>Cannot open the database %1:</source>
        <translation>无法打开数据库 %1：</translation>
    </message>
    <message>
        <source>The database %1 holds no branch yet. Build the demo branch in it?</source>
        <translation>数据库 %1 中还没有机构，是否在其中创建演示机构？</translation>
    </message>
    <message>
        <source>The demo branch could not be built:</source>
        <translation>演示机构创建失败：</translation>
    </message>
    <message>
        <source>The database %1 has no GridDesk tables yet. Create them?</source>
        <translation>数据库 %1 尚无 GridDesk 数据表，是否创建？</translation>
    </message>
    <message>
        <source>The database %1 uses an older GridDesk schema. Upgrade it now?</source>
        <translation>数据库 %1 的结构版本较旧，是否立即升级？</translation>
    </message>
    <message>
        <source>Password for %1:</source>
        <translation>%1 的密码：</translation>
    </message>
    <message>
        <source>Building the demo branch…</source>
        <translation>正在创建演示机构…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Demo users: senior (senior supervisor), supervisor, analyst; password demo1234.</source>
        <translation>演示用户：senior（资深主管）、supervisor（主管）、analyst（分析员），密码均为 demo1234。</translation>
    </message>
</context>
</TS>
